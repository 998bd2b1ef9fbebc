import { epochNow } from '#tools/clock.js';
import { sleep } from '#tools/wait.js';
import { Cluster, measureStep, type Stage } from '../cluster/cluster.js';
import type { NodeProcess } from '../cluster/node-process.js';
import type { Peer } from '../peers.js';
import { measureSteady, type SteadyCost } from './steady-cost.js';

export interface ElectionScaleStep {
  peer: Peer['id'];
  elections: number;
  /** ms from start() until the app was up, and until it led every election (leader peers). */
  bootMs?: number;
  allLedMs?: number;
  /** Undefined when the node never got to a steady state (it fell over). */
  cost?: SteadyCost;
  /** A second process with the same elections takes over: until it leads all of them, in ms. */
  gracefulAllMs?: number;
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
 * One process with `elections` elections (or jobs): what it costs Redis and its own event loop,
 * and, with `failover`, how long a second process takes to lead them all after a SIGTERM and
 * after a SIGKILL of the first.
 */
export async function electionScaleStep(
  peer: Peer,
  elections: number,
  stage: Stage,
  settings: ElectionScaleSettings,
): Promise<ElectionScaleStep> {
  const { interval, leaseTtl } = settings;
  const cluster = await Cluster.onEmptyRedis(peer, stage, { interval, leaseTtl, elections });
  const step: ElectionScaleStep = { peer: peer.id, elections };
  return measureStep(cluster, step, async () => {
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
    await sleep(settings.warmupMs);
    const window = elections <= 100 ? settings.fewWindowMs : settings.windowMs;
    step.cost = await measureSteady(cluster, stage.redis, window);
    if (!settings.failover || !peer.leader) return;

    step.gracefulAllMs = await takeOver(cluster, first!, 'SIGTERM', settings, allLed);
    const [second] = cluster.live();
    step.crashAllMs = await takeOver(cluster, second!, 'SIGKILL', settings, allLed);
  });
}

/** Adds a follower, lets it settle, stops `master`, and times the follower's taking every election. */
async function takeOver(
  cluster: Cluster,
  master: NodeProcess,
  signal: 'SIGTERM' | 'SIGKILL',
  settings: ElectionScaleSettings,
  allLed: (node?: NodeProcess) => Promise<number | undefined>,
): Promise<number | undefined> {
  const [follower] = await withLimit(cluster.add(1), 'follower boot');
  await sleep(settings.warmupMs);
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
