import { epochNow } from '#tools/clock.js';
import { sleep } from '#tools/wait.js';
import { Cluster, type Stage } from '../cluster/cluster.js';
import type { CronConfig } from '../config.js';
import type { CronPeerId, Peer } from '../peers.js';
import type { FaultKind } from './fault.js';

/** One run of the job, as the node reported it: its start (`t`) and the slot it ran for. */
export interface CronRun {
  node: string;
  t: number;
  slot: number;
}

/** One fault: the node that ran the job last was stopped (SIGTERM) or killed (SIGKILL). */
export interface CronFault {
  kind: FaultKind;
  victim: string;
  /** When the signal was sent. */
  at: number;
  /** When the victim had exited. */
  exitedAt: number;
  /** When its replacement was started: the end of the fault's window. */
  replacedAt: number;
}

export interface CronSession {
  peer: CronPeerId;
  nodes: number;
  runs: CronRun[];
  faults: CronFault[];
  /** The steady window (no fault), after the nodes were up and the job had run. */
  steadyFrom: number;
  steadyUntil: number;
  seconds: number;
}

/**
 * The cron scenario for one peer: `nodes` nodes run one job on an every-second schedule, first
 * with no fault, then through graceful stops and crashes of the node that ran the job last, each
 * replaced after `afterFaultMs`. Every run is kept with its slot; analysis/cron-slots.ts counts.
 */
export async function cronSession(
  peer: Peer,
  stage: Stage,
  settings: { leaseTtl: number; nodes: number; cron: CronConfig },
  progress: (line: string) => void,
): Promise<CronSession> {
  const started = performance.now();
  const { leaseTtl, nodes, cron } = settings;
  const cluster = await Cluster.onEmptyRedis(peer, stage, {
    interval: cron.periodMs,
    leaseTtl,
    elections: 1,
    cron: cron.expression,
  });
  const patience = 3 * leaseTtl + 3 * cron.periodMs;
  const faults: CronFault[] = [];
  try {
    await cluster.add(nodes);
    for (let i = 0; i < 2; i++)
      if (!(await cluster.nextRun(patience))) throw new Error(`${peer.id}: the job never ran`);
    const steadyFrom = epochNow();
    await sleep(cron.steadyMs);
    const steadyUntil = epochNow();
    const kinds: FaultKind[] = [
      ...Array<FaultKind>(cron.gracefuls).fill('graceful'),
      ...Array<FaultKind>(cron.crashes).fill('crash'),
    ];
    for (const [i, kind] of kinds.entries()) {
      await Promise.all([cluster.prepareSpare(), cluster.nextRun(patience)]);
      // A random phase within the period, so that the signal meets every moment of a slot.
      await sleep(Math.random() * cron.periodMs);
      const last = cluster.runs.at(-1);
      const victim = last ? cluster.nodes.get(last.node) : undefined;
      if (!victim?.alive) throw new Error(`${peer.id}: no live node ran the job last`);
      const at = epochNow();
      victim.signal(kind === 'crash' ? 'SIGKILL' : 'SIGTERM');
      const stuck = setTimeout(() => victim.signal('SIGKILL'), patience);
      await victim.exited;
      clearTimeout(stuck);
      const exitedAt = epochNow();
      // The cluster runs one node short for a fixed window: what happens to the slots in it is
      // what is measured, and a crashed holder's lease (leaseTtl) runs out within it.
      await sleep(cron.afterFaultMs);
      const replacedAt = epochNow();
      await cluster.add(1);
      faults.push({ kind, victim: victim.id, at, exitedAt, replacedAt });
      progress(
        `  ${peer.id} ${kind} ${i + 1}/${kinds.length}: ${victim.id} exited after ${Math.round(exitedAt - at)} ms`,
      );
    }
    // Slots after the last fault's window are measured up to a run after the replacement.
    await cluster.nextRun(patience);
    await cluster.nextRun(patience);
    return {
      peer: peer.id as CronPeerId,
      nodes,
      runs: cluster.runs.flatMap(({ node, t, slot }) =>
        slot === undefined ? [] : [{ node, t, slot }],
      ),
      faults,
      steadyFrom,
      steadyUntil,
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await cluster.close();
  }
}
