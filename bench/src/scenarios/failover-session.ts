import { epochNow } from '#tools/clock.js';
import { cadence, type Cadence } from '../analysis/cadence.js';
import { Cluster, type Stage } from '../cluster/cluster.js';
import type { BenchConfig } from '../config.js';
import type { Peer } from '../peers.js';
import { type FailoverSample, type FaultKind, injectFault } from './fault.js';
import { measureSteady, type SteadyCost } from './steady-cost.js';

export type SessionSettings = Pick<
  BenchConfig,
  'interval' | 'leaseTtl' | 'nodes' | 'costWindowMs' | 'crashes' | 'gracefuls'
>;

/** Scenarios 1 to 4 for one peer, on one set of nodes. */
export interface PeerSession {
  peer: Peer['id'];
  cost: SteadyCost;
  samples: FailoverSample[];
  cadence: Cadence;
  seconds: number;
}

/**
 * Starts `nodes` nodes, measures the steady-state cost, then alternates crashes and graceful
 * stops of the node that runs the job, replacing it each time. Every run of the session counts
 * towards the exactly-once figures.
 */
export async function failoverSession(
  peer: Peer,
  stage: Stage,
  settings: SessionSettings,
  progress: (line: string) => void,
): Promise<PeerSession> {
  const started = performance.now();
  const { interval, leaseTtl } = settings;
  const cluster = await Cluster.onEmptyRedis(peer, stage, { interval, leaseTtl, elections: 1 });
  try {
    await cluster.add(settings.nodes);
    // Steady: the job has run a few times since the last node came up.
    for (let i = 0; i < 3; i++) await cluster.nextRun(3 * leaseTtl + 3 * interval);
    const steadyFrom = epochNow();
    const cost = await measureSteady(cluster, stage.redis, settings.costWindowMs);
    const faults = alternate(settings.crashes, settings.gracefuls);
    const samples: FailoverSample[] = [];
    for (const [i, kind] of faults.entries()) {
      const sample = await injectFault(cluster, kind);
      samples.push(sample);
      progress(
        `  ${peer.id} ${kind} ${i + 1}/${faults.length}: run after ${fmt(sample.runMs)} ms` +
          (peer.leader ? `, leader after ${fmt(sample.leadMs)} ms` : ''),
      );
    }
    return {
      peer: peer.id,
      cost,
      samples,
      cadence: cadence(
        cluster.runs.filter((run) => run.t >= steadyFrom),
        interval,
      ),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await cluster.close();
  }
}

/** crash, graceful, crash, ...: both kinds meet the same conditions over the session. */
function alternate(crashes: number, gracefuls: number): FaultKind[] {
  const kinds: FaultKind[] = [];
  for (let i = 0; i < Math.max(crashes, gracefuls); i++) {
    if (i < crashes) kinds.push('crash');
    if (i < gracefuls) kinds.push('graceful');
  }
  return kinds;
}

/** A time in whole ms, or a dash when there was none. */
export function fmt(ms: number | undefined): string {
  return ms === undefined ? '—' : ms.toFixed(0);
}
