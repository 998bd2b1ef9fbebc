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
 * is left, so that there is always someone to take over. With --elections, each step also waits
 * for the balanced elections to settle over the nodes that are up.
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

  /**
   * With --elections: waits for a spread recorded since `since` over the nodes that are up now
   * (ClusterState records one once it has held for the settle time).
   */
  const spreadSettles = async (since: number) => {
    if (!state.balance) return;
    await state.waitFor(
      () => {
        const spread = state.spreads.at(-1);
        const up = state.up().map((node) => node.id);
        const over = spread ? Object.keys(spread.leading) : [];
        return spread && spread.at >= since && over.join() === up.join();
      },
      'the balanced elections to settle over the nodes that are up',
      handOverTimeout + state.balance.settleMs,
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
  const startedAt = Date.now();
  const first: string[] = [];
  for (let i = 0; i < count; i++) first.push(await actions.addNode());
  await upAndRunning(first);
  await state.waitFor(
    () => (state.master()?.runs ?? 0) >= 2,
    'a master that ran twice',
    START_TIMEOUT_MS,
  );
  await allAgree();
  await spreadSettles(startedAt);

  const killedAt = Date.now();
  await handOver('kill the master (SIGKILL)', () => actions.killMaster());
  await spreadSettles(killedAt);

  log('step: add a node');
  const addedAt = Date.now();
  await upAndRunning([await actions.addNode()]);
  await allAgree();
  await spreadSettles(addedAt);

  let stopped: string | undefined;
  const stoppedAt = Date.now();
  await handOver('stop the master gracefully (SIGTERM)', () => (stopped = actions.stopMaster()));
  await state.waitFor(
    () => state.nodes.get(stopped!)?.status === 'stopped',
    `${stopped} to exit`,
    10_000,
  );
  await spreadSettles(stoppedAt);

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
  if (state.balance) {
    // On the memory store a cut-off node steps down before it is let go: wait for that too.
    await state.waitFor(() => pause.resumedAt, `${pause.nodeId} to resume`, pauseMs);
    await spreadSettles(pause.resumedAt!);
  }

  log('step: watch two more intervals, then quit');
  await sleep(2 * intervalMs);
}
