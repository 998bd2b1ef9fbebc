import { epochNow } from '#tools/clock.js';
import { sleep } from '#tools/wait.js';
import { type Cadence, cadence } from '../analysis/cadence.js';
import { Cluster, measureStep, type Stage } from '../cluster/cluster.js';
import type { NodeProcess } from '../cluster/node-process.js';
import type { Peer } from '../peers.js';
import { measureSteady, type SteadyCost } from './steady-cost.js';

export interface ElectionScaleStep {
  peer: Peer['id'];
  elections: number;
  /** Nodes in the measured window, each running every election. */
  nodes: number;
  /** ms from start() until the first node was up, and until it led every election (leader peers). */
  bootMs?: number;
  allLedMs?: number;
  /** Undefined when the nodes never got to a steady state (one fell over). */
  cost?: SteadyCost;
  /** Runs of election 0 in the window, across the nodes: the one election whose every run is seen. */
  election0?: Cadence;
  /** The second node takes over from the first: until it leads all of them, in ms. */
  gracefulAllMs?: number;
  /** A third node, joined after that, takes over from the second. */
  crashAllMs?: number;
  error?: string;
}

export interface ElectionScaleSettings {
  interval: number;
  leaseTtl: number;
  warmupMs: number;
  windowMs: number;
  fewWindowMs: number;
  failover: boolean;
}

/** How long any step may take before the bench calls it fallen over and moves on. */
const STEP_LIMIT_MS = 60_000;

/**
 * Two processes with the same `elections` elections (or jobs): the first boots and, where the
 * peer elects, leads them all; the second joins; the window then measures what both cost Redis
 * and their own event loops. With `failover`, the first then gets a SIGTERM and the time until the
 * second leads them all is taken; a third joins and the second gets a SIGKILL.
 */
export async function electionScaleStep(
  peer: Peer,
  elections: number,
  stage: Stage,
  settings: ElectionScaleSettings,
): Promise<ElectionScaleStep> {
  const { interval, leaseTtl } = settings;
  const cluster = await Cluster.onEmptyRedis(peer, stage, { interval, leaseTtl, elections });
  const step: ElectionScaleStep = { peer: peer.id, elections, nodes: 2 };
  return measureStep(cluster, step, async () => {
    await cluster.prepareSpare();
    await cluster.prepareSpare();
    const startedAt = epochNow();
    const allLed = (node?: NodeProcess) =>
      cluster.waitFor(
        (m) =>
          m.ev === 'led' && m.count === elections && (!node || m.node === node.id)
            ? m.t
            : undefined,
        STEP_LIMIT_MS,
      );
    const led = peer.leader ? allLed() : Promise.resolve(undefined);
    const [first] = await withLimit(cluster.add(1), 'boot');
    step.bootMs = epochNow() - startedAt;
    const ledAt = await led;
    if (peer.leader && ledAt === undefined) throw new Error('did not lead every election');
    if (ledAt !== undefined) step.allLedMs = ledAt - startedAt;
    const [second] = await withLimit(cluster.add(1), 'second node boot');
    await sleep(settings.warmupMs);
    const window = elections <= 100 ? settings.fewWindowMs : settings.windowMs;
    const from = epochNow();
    step.cost = await measureSteady(cluster, stage.redis, window);
    const to = epochNow();
    step.election0 = cadence(
      cluster.runs.filter((run) => run.t >= from && run.t <= to),
      interval,
    );
    if (!settings.failover || !peer.leader) return;

    step.gracefulAllMs = await takeOver(first!, second!, 'SIGTERM', allLed);
    await cluster.prepareSpare();
    const [third] = await withLimit(cluster.add(1), 'third node boot');
    await sleep(settings.warmupMs);
    step.crashAllMs = await takeOver(second!, third!, 'SIGKILL', allLed);
  });
}

/** Stops `master` and times `follower`'s taking every election. */
async function takeOver(
  master: NodeProcess,
  follower: NodeProcess,
  signal: 'SIGTERM' | 'SIGKILL',
  allLed: (node?: NodeProcess) => Promise<number | undefined>,
): Promise<number | undefined> {
  const led = allLed(follower);
  const at = epochNow();
  master.signal(signal);
  const ledAt = await led;
  await master.exited;
  return ledAt === undefined ? undefined : ledAt - at;
}

async function withLimit<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`${what} took over ${STEP_LIMIT_MS / 1000} s`)),
      STEP_LIMIT_MS,
    );
  });
  try {
    return await Promise.race([promise, limit]);
  } finally {
    clearTimeout(timer);
  }
}
