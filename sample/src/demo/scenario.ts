import { sleep } from '#tools/wait.js';
import type { Actions } from './actions.js';
import type { ClusterState } from './cluster-state.js';
import type { DemoOptions } from './options.js';

/** Starting a Nest app takes about a second; give a busy 2-core machine plenty more. */
const START_TIMEOUT_MS = 30_000;

/**
 * The fixed scenario of `--script`: start the nodes, then kill the master, stop the next one
 * gracefully and freeze the one after, each time waiting for another node to take over and run
 * the job. A node is added after the kill (the key a), and another before the pause if only one
 * is left, so that there is always someone to take over.
 */
export async function runScenario(
  state: ClusterState,
  actions: Actions,
  options: DemoOptions,
  log: (text: string) => void,
): Promise<void> {
  const { leaseMs, pauseMs, intervalMs } = options;
  // A killed master's lease must run out first; then a follower's next retry (a third of the lease).
  const handOverTimeout = 3 * leaseMs + 10_000;

  const upAndRunning = async (nodeIds: string[]) => {
    await state.waitFor(
      () => nodeIds.every((id) => state.nodes.get(id)?.status === 'up'),
      `node${nodeIds.length > 1 ? 's' : ''} ${nodeIds.join(', ')} to be up`,
      START_TIMEOUT_MS,
    );
  };
  /** Does `act` to the master, then waits for another node to take over and run the job. */
  const handOver = async (step: string, act: () => string | undefined) => {
    log(`step: ${step}`);
    const before = state.handOvers.length;
    if (!act()) throw new Error(`there was no master to ${step}`);
    await state.waitFor(() => state.handOvers.length > before, 'another master', handOverTimeout);
    const { to, at } = state.handOvers[before];
    await state.waitFor(
      () => (state.nodes.get(to)?.lastRunAt ?? 0) >= at,
      `${to} to run the job`,
      handOverTimeout,
    );
  };

  /** The sample's GET /kettle at work: each node reads the master from the store. */
  const allAgree = async () => {
    await state.waitFor(
      () => {
        const master = state.master();
        return master && state.live().every((node) => node.seesMaster === master.id);
      },
      "every node's GET /kettle to name the master",
      START_TIMEOUT_MS,
    );
    log(`every node's GET /kettle names ${state.master()?.id} as master`);
  };

  // A hand-over needs someone to hand over to.
  const count = Math.max(2, options.nodes);
  log(`step: start ${count} nodes`);
  const first: string[] = [];
  for (let i = 0; i < count; i++) first.push(await actions.addNode());
  await upAndRunning(first);
  await state.waitFor(
    () => (state.master()?.runs ?? 0) >= 2,
    'a master that ran twice',
    START_TIMEOUT_MS,
  );
  await allAgree();

  await handOver('kill the master (SIGKILL)', () => actions.killMaster());

  log('step: add a node');
  await upAndRunning([await actions.addNode()]);
  await allAgree();

  let stopped: string | undefined;
  await handOver('stop the master gracefully (SIGTERM)', () => (stopped = actions.stopMaster()));
  await state.waitFor(
    () => state.nodes.get(stopped!)?.status === 'stopped',
    `${stopped} to exit`,
    10_000,
  );

  if (state.live().length < 2) {
    log('step: add a node, so that another one can take over from the paused master');
    await upAndRunning([await actions.addNode()]);
  }
  await handOver(`pause the master (SIGSTOP) for ${pauseMs} ms`, () => actions.pauseMaster());
  const pause = state.actions.at(-1)!;
  await state.waitFor(
    () => pause.steppedDown,
    `${pause.nodeId} to step down after the pause`,
    pauseMs + handOverTimeout,
  );
  await state.waitFor(
    () => (state.master()?.lastRunAt ?? 0) > pause.steppedDown!.at,
    'a run after the paused node stepped down',
    handOverTimeout,
  );

  log('step: watch two more intervals, then quit');
  await sleep(2 * intervalMs);
}
