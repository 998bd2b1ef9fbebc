import { epochNow } from '#tools/clock.js';
import { sleep } from '#tools/wait.js';
import type { Cluster, RunRecord } from '../cluster/cluster.js';

export type FaultKind = 'crash' | 'graceful';

/** One fail-over: the node that ran the job last is killed (SIGKILL) or stopped (SIGTERM). */
export interface FailoverSample {
  kind: FaultKind;
  /** The node count when the fault hit. */
  nodes: number;
  victim: string;
  /** ms from the signal until another node said it leads; undefined for peers without a leader. */
  leadMs?: number;
  /** ms from the signal until another node's first run; undefined if none came in time. */
  runMs?: number;
  /** (new node's first run - victim's last run) / interval: 1.0 is a seamless cadence. */
  gapIntervals?: number;
}

/**
 * Injects one fault and times the hand-over, then brings the cluster back to its size with a warm
 * spare. The fault lands a random time (uniform over one interval) after the spare is ready and
 * a run was seen, so it meets every phase of the cadence and of the lease renewals, and no node is
 * loading its modules meanwhile. With `upForMs`, that run is looked for only once every live node
 * has been up that long.
 */
export async function injectFault(
  cluster: Cluster,
  kind: FaultKind,
  upForMs = 0,
): Promise<FailoverSample> {
  const { interval, leaseTtl } = cluster.settings;
  const patience = 3 * leaseTtl + 3 * interval;
  await Promise.all([
    cluster.prepareSpare(),
    cluster.upFor(upForMs).then(() => cluster.nextRun(patience)),
  ]);
  await sleep(Math.random() * interval);
  const last = cluster.runs[cluster.runs.length - 1];
  const victim = last ? cluster.nodes.get(last.node) : undefined;
  if (!last || !victim?.alive) throw new Error(`${cluster.peer.id}: no node is running the job`);
  const nodes = cluster.live().length;
  const at = epochNow();
  const other = (node: string) => node !== victim.id;
  // Both waits are registered before the signal is sent, so no record can slip past them.
  const lead = cluster.peer.leader
    ? cluster.waitFor((m) => (m.ev === 'lead' && m.on && other(m.node) ? m.t : undefined), patience)
    : Promise.resolve(undefined);
  const run = cluster.waitFor((m) => (m.ev === 'run' && other(m.node) ? m : undefined), patience);
  victim.signal(kind === 'crash' ? 'SIGKILL' : 'SIGTERM');
  const [leadAt, firstRun] = await Promise.all([lead, run]);
  const stopped = setTimeout(() => victim.signal('SIGKILL'), patience);
  await victim.exited;
  clearTimeout(stopped);
  const victimLast = lastRunOf(cluster.runs, victim.id);
  const sample: FailoverSample = {
    kind,
    nodes,
    victim: victim.id,
    leadMs: leadAt === undefined ? undefined : leadAt - at,
    runMs: firstRun ? firstRun.t - at : undefined,
    gapIntervals: firstRun && victimLast ? (firstRun.t - victimLast.t) / interval : undefined,
  };
  await cluster.add(1);
  return sample;
}

function lastRunOf(runs: readonly RunRecord[], node: string): RunRecord | undefined {
  for (let i = runs.length - 1; i >= 0; i--) if (runs[i]!.node === node) return runs[i];
  return undefined;
}
