import { epochNow } from '#tools/clock.js';
import { type Cadence, cadence } from '../analysis/cadence.js';
import { Cluster, measureStep, type Stage } from '../cluster/cluster.js';
import type { Peer } from '../peers.js';
import { type FailoverSample, injectFault } from './fault.js';
import { measureSteady, type SteadyCost } from './steady-cost.js';

export interface NodeScaleStep {
  peer: Peer['id'];
  nodes: number;
  cost?: SteadyCost;
  samples: FailoverSample[];
  /** Runs of election 0 from the steady state to the end of the fail-overs. */
  cadence?: Cadence;
  error?: string;
}

export interface NodeScaleSettings {
  interval: number;
  leaseTtl: number;
  windowMs: number;
  faults: number;
}

/** `nodes` nodes on one election: the cost as the crowd grows, and fail-overs within it. */
export async function nodeScaleStep(
  peer: Peer,
  nodes: number,
  stage: Stage,
  settings: NodeScaleSettings,
): Promise<NodeScaleStep> {
  const { interval, leaseTtl } = settings;
  const cluster = await Cluster.onEmptyRedis(peer, stage, { interval, leaseTtl, elections: 1 });
  const step: NodeScaleStep = { peer: peer.id, nodes, samples: [] };
  return measureStep(cluster, step, async () => {
    await cluster.add(nodes);
    for (let i = 0; i < 3; i++) await cluster.nextRun(3 * leaseTtl + 3 * interval);
    const steadyFrom = epochNow();
    step.cost = await measureSteady(cluster, stage.redis, settings.windowMs);
    if (nodes > 1) {
      for (let i = 0; i < settings.faults; i++) {
        step.samples.push(await injectFault(cluster, 'crash'));
        step.samples.push(await injectFault(cluster, 'graceful'));
      }
    }
    step.cadence = cadence(
      cluster.runs.filter((run) => run.t >= steadyFrom),
      interval,
    );
  });
}
