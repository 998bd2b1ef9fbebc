import { epochNow } from '#tools/clock.js';
import { sleep } from '#tools/wait.js';
import { cadence, type Cadence } from '../analysis/cadence.js';
import { Cluster, type Stage } from '../cluster/cluster.js';
import type { CrashConfig } from '../config.js';
import type { Peer, PeerId } from '../peers.js';
import { fmt } from './failover-session.js';
import { type FailoverSample, injectFault } from './fault.js';
import { measureSteady, type SteadyCost } from './steady-cost.js';

/** One freeze: the node that ran the job last got a SIGSTOP, then a SIGCONT. */
export interface FreezeSample {
  victim: string;
  /** From the SIGSTOP to the SIGCONT, ms. */
  frozenMs: number;
  /**
   * Leaderships other nodes took from the SIGSTOP until `afterFreezeMs` after the SIGCONT;
   * undefined for peers without a leader.
   */
  handOvers?: number;
  /** The frozen node said it stopped leading in that time; undefined for peers without a leader. */
  steppedDown?: boolean;
  /** From the SIGCONT to the frozen node's next run, ms; undefined if it ran none in that time. */
  resumedRunMs?: number;
}

/** The crash section for one peer, on one set of nodes. */
export interface CrashSession {
  peer: PeerId;
  leaseTtl: number;
  /** The steady window before any fault. */
  cost: SteadyCost;
  freezes: FreezeSample[];
  /** The crashes, timed as scenario 1 times them. */
  samples: FailoverSample[];
  /** Election 0's runs from the first freeze to the first crash. */
  freezeCadence: Cadence;
  /** Election 0's runs from the first crash to the end. */
  crashCadence: Cadence;
  seconds: number;
}

/**
 * Starts `nodes` nodes at the crash section's lease, measures the steady-state cost, freezes the
 * node that runs the job `freezes` times, then kills it `crashes` times, replacing it each time.
 * For a peer that `settles`, every fault waits until each live node has been up `settleMs`, and so
 * does the cost window: its followers have seen the holder alive by then.
 */
export async function crashSession(
  peer: Peer,
  stage: Stage,
  settings: { interval: number; crash: CrashConfig },
  progress: (line: string) => void,
): Promise<CrashSession> {
  const started = performance.now();
  const { interval, crash } = settings;
  const { leaseTtl } = crash;
  const upForMs = peer.settles ? crash.settleMs : 0;
  const cluster = await Cluster.onEmptyRedis(peer, stage, { interval, leaseTtl, elections: 1 });
  try {
    await cluster.add(crash.nodes);
    for (let i = 0; i < 3; i++) await cluster.nextRun(3 * leaseTtl + 3 * interval);
    await cluster.upFor(upForMs);
    const cost = await measureSteady(cluster, stage.redis, crash.costWindowMs);
    const freezeFrom = epochNow();
    const freezes: FreezeSample[] = [];
    for (let i = 0; i < crash.freezes; i++) {
      const sample = await freeze(cluster, crash, upForMs);
      freezes.push(sample);
      progress(
        `  ${peer.id} freeze ${i + 1}/${crash.freezes}: ` +
          (sample.handOvers === undefined ? 'no leader' : `${sample.handOvers} hand-over(s)`) +
          `, ran again ${fmt(sample.resumedRunMs)} ms after the SIGCONT`,
      );
    }
    const crashFrom = epochNow();
    const samples: FailoverSample[] = [];
    for (let i = 0; i < crash.crashes; i++) {
      const sample = await injectFault(cluster, 'crash', upForMs);
      samples.push(sample);
      progress(
        `  ${peer.id} crash ${i + 1}/${crash.crashes}: run after ${fmt(sample.runMs)} ms` +
          (peer.leader ? `, leader after ${fmt(sample.leadMs)} ms` : ''),
      );
    }
    // The last takeover's cadence too: two runs after the replacement.
    for (let i = 0; i < 2; i++) await cluster.nextRun(3 * leaseTtl + 3 * interval);
    const runs = (from: number, to: number) =>
      cluster.runs.filter((run) => run.t >= from && run.t < to);
    return {
      peer: peer.id,
      leaseTtl,
      cost,
      freezes,
      samples,
      freezeCadence: cadence(runs(freezeFrom, crashFrom), interval),
      crashCadence: cadence(runs(crashFrom, Infinity), interval),
      seconds: (performance.now() - started) / 1000,
    };
  } finally {
    await cluster.close();
  }
}

/**
 * Stops the node that ran the job last for `freezeMs` (its sockets stay open), a random time
 * within an interval after one of its runs, and counts the leaderships that other nodes take
 * until `afterFreezeMs` after it goes on.
 */
async function freeze(
  cluster: Cluster,
  settings: Pick<CrashConfig, 'freezeMs' | 'afterFreezeMs'>,
  upForMs: number,
): Promise<FreezeSample> {
  const { interval, leaseTtl } = cluster.settings;
  await cluster.upFor(upForMs);
  await cluster.nextRun(3 * leaseTtl + 3 * interval);
  await sleep(Math.random() * interval);
  const victim = cluster.nodes.get(cluster.runs.at(-1)?.node ?? '');
  if (!victim?.alive) throw new Error(`${cluster.peer.id}: no node is running the job`);
  let handOvers = 0;
  let steppedDown = false;
  let resumedAt = Infinity;
  let resumedRunAt: number | undefined;
  const stopListening = cluster.listen((m) => {
    if (m.ev === 'lead' && m.on && m.node !== victim.id) handOvers++;
    if (m.ev === 'lead' && !m.on && m.node === victim.id) steppedDown = true;
    if (m.ev === 'run' && m.node === victim.id && m.t >= resumedAt) resumedRunAt ??= m.t;
  });
  const at = epochNow();
  victim.pause();
  await sleep(settings.freezeMs);
  victim.resume();
  resumedAt = epochNow();
  await sleep(settings.afterFreezeMs);
  stopListening();
  const leader = cluster.peer.leader;
  return {
    victim: victim.id,
    frozenMs: resumedAt - at,
    handOvers: leader ? handOvers : undefined,
    steppedDown: leader ? steppedDown : undefined,
    resumedRunMs: resumedRunAt === undefined ? undefined : resumedRunAt - resumedAt,
  };
}
