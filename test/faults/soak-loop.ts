import { sleep, waitFor } from '#tools/wait.js';
import { monotonicNow } from '#tools/clock.js';
import { type FaultCluster } from './cluster.js';
import type { FaultEvent, InvariantReport } from './invariants.js';

/** The loop shared by the soaks (soak.ts on one Redis, quorum-soak.ts on three). */
export interface SoakSettings {
  nodes: number;
  seconds: number;
  intervalMs: number;
  leaseMs: number;
  /** Pause between one fault's heal and the next fault. */
  quietMs: number;
  /** The nodes' crashDetection; the module's default when not given. */
  crashDetection?: 'connection' | 'lease';
}

/** The faults one soak draws from, and how to inject each. */
export interface FaultPlan<F extends string> {
  readonly faults: readonly F[];
  /** Faults after which the old master still runs, cut off: its step-down margin is measured. */
  readonly cutOff: ReadonlySet<F>;
  /** Faults the master should ride out: whether it kept its leadership is counted. */
  readonly rideOut?: ReadonlySet<F>;
  /**
   * Injects `fault` (on `master` or around it) and returns once it is healed. For a ride-out
   * fault, `false` says the master could not be expected to keep its leadership through it.
   */
  inject(fault: F, master: string): Promise<boolean | void>;
}

/** One ride-out fault: whether the master was expected to keep its leadership, and did. */
export interface RideOut<F extends string> {
  fault: F;
  expected: boolean;
  kept: boolean;
}

export interface FaultTally<F extends string> {
  settings: SoakSettings;
  injected: Record<F, number>;
  /** Per fault: ms from the fault to the next election (of any node). */
  failovers: Record<F, number[]>;
  /** Per fault: how often another node took over. */
  handOvers: Record<F, number>;
  /**
   * For cut-off faults: ms between the old master's step-down and the next node's election.
   * Positive: it gave up first.
   */
  stepDownMargins: number[];
  rideOuts: Array<RideOut<F>>;
}

export interface SoakResult<F extends string> extends FaultTally<F>, InvariantReport {
  /** Interval slots with no run started, over the whole soak (faults included). */
  missedIntervals: number;
  /** Processes that exited on their own with an error (not killed by the soak). */
  crashes: number;
  /** Nodes that did not exit by themselves after app.close(). */
  leaks: number;
}

/** The faults on one node, the same in every soak: the node is replaced when it exits. */
export type NodeFault = 'kill' | 'terminate' | 'freeze' | 'block';

/**
 * Injects a node fault on `master` and heals it after `healAfter` ms; a killed or terminated
 * node is replaced by `replace` once it has exited.
 */
export async function injectNodeFault(
  cluster: FaultCluster,
  fault: NodeFault,
  master: string,
  healAfter: number,
  replace: () => Promise<void>,
): Promise<void> {
  switch (fault) {
    case 'kill':
    case 'terminate':
      cluster.signal(master, fault === 'kill' ? 'SIGKILL' : 'SIGTERM');
      await waitFor(() => cluster.has(master, 'exit'), 'the node to exit', 10_000);
      return replace();
    case 'freeze':
      cluster.signal(master, 'SIGSTOP');
      await sleep(healAfter);
      return void cluster.signal(master, 'SIGCONT');
    case 'block':
      cluster.signal(master, 'SIGUSR2');
      return sleep(healAfter);
  }
}

const perFault = <F extends string, T>(faults: readonly F[], value: () => T) =>
  Object.fromEntries(faults.map((f) => [f, value()])) as Record<F, T>;

/** Until `settings.seconds` have passed: wait for a master, inject a random fault, measure. */
export async function runFaults<F extends string>(
  cluster: FaultCluster,
  settings: SoakSettings,
  plan: FaultPlan<F>,
  log: (line: string) => void,
): Promise<FaultTally<F>> {
  const { leaseMs, quietMs } = settings;
  const tally: FaultTally<F> = {
    settings,
    injected: perFault(plan.faults, () => 0),
    failovers: perFault(plan.faults, () => [] as number[]),
    handOvers: perFault(plan.faults, () => 0),
    stepDownMargins: [],
    rideOuts: [],
  };
  const endAt = monotonicNow() + settings.seconds * 1000;
  while (monotonicNow() < endAt) {
    const master = await waitFor(() => cluster.master(), 'a master', leaseMs * 6).catch(
      () => undefined,
    );
    if (!master) {
      log('no master; waiting');
      continue;
    }
    const fault = plan.faults[Math.floor(Math.random() * plan.faults.length)];
    tally.injected[fault]++;
    const at = monotonicNow();
    log(`${fault} on ${master}`);
    const expected = (await plan.inject(fault, master)) !== false;
    const revoked = () =>
      cluster.events.find((e) => e.ev === 'revoked' && e.node === master && e.t > at);
    if (plan.rideOut?.has(fault)) {
      await sleep(quietMs);
      const kept = !revoked();
      tally.rideOuts.push({ fault, expected, kept });
      log(
        `  ${master} ${kept ? 'kept' : 'lost'} it (${expected ? '' : 'not '}expected to keep it)`,
      );
      if (kept) continue;
    }
    // The next election by any node: for a Redis fault it may be the old master again.
    const elected = () => cluster.events.find((e) => e.ev === 'elected' && e.t > at);
    const next = await waitFor(elected, 'a master again', leaseMs * 4).catch(() => undefined);
    if (next) tally.failovers[fault].push(next.t - at);
    if (next && next.node !== master) tally.handOvers[fault]++;
    const stepDown = revoked();
    if (next && next.node !== master && stepDown && plan.cutOff.has(fault))
      tally.stepDownMargins.push(next.t - stepDown.t);
    await sleep(quietMs);
  }
  return tally;
}

/** Slots of one interval, between the first and the last run, in which no run started. */
export function missedIntervals(events: readonly FaultEvent[], intervalMs: number): number {
  const starts = events
    .filter((e) => e.ev === 'start')
    .map((e) => e.t)
    .sort((a, b) => a - b);
  let missed = 0;
  for (let i = 1; i < starts.length; i++)
    missed += Math.max(0, Math.round((starts[i] - starts[i - 1]) / intervalMs) - 1);
  return missed;
}

/** Crashes (an exit with an error code, not a signal of the soak's) read off the log. */
export function crashes(events: readonly FaultEvent[]): number {
  return events.filter((e) => e.ev === 'exit' && e.code !== 0 && e.signal === null).length;
}

function pct(values: number[], p: number): string {
  if (values.length === 0) return '–';
  const sorted = [...values].sort((a, b) => a - b);
  return `${Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))])}`;
}

/** The result as Markdown tables, for docs/RELIABILITY.md; `extra` rows join the invariants. */
export function resultTable<F extends string>(
  title: string,
  faults: readonly F[],
  result: SoakResult<F>,
  extra: string[] = [],
): string {
  const rows = faults.map((f) => {
    const times = result.failovers[f];
    return `| ${f} | ${result.injected[f]} | ${result.handOvers[f]} | ${pct(times, 50)} | ${pct(times, 95)} | ${times.length ? Math.round(Math.max(...times)) : '–'} |`;
  });
  const s = result.settings;
  const margins = result.stepDownMargins;
  return [
    `${title}: ${s.nodes} nodes, ${s.seconds} s, interval ${s.intervalMs} ms, lease ${s.leaseMs} ms${s.crashDetection ? `, crashDetection '${s.crashDetection}'` : ''}, ${result.runs} runs.`,
    '',
    '| fault | injected | taken over by another node | a master again: p50 ms | p95 ms | max ms |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '| invariant | count |',
    '| --- | --- |',
    `| double masters (overlapping runs, not fenced) | ${result.doubleMasters} |`,
    `| cut-off master stepped down after the next master was elected | ${margins.filter((m) => m <= 0).length} of ${margins.length} |`,
    `| step-down margin ms (min / p50) | ${margins.length ? `${Math.round(Math.min(...margins))} / ${pct(margins, 50)}` : '–'} |`,
    ...extra,
    `| stale writes accepted | ${result.staleWritesAccepted} |`,
    `| stale writes refused by the fence | ${result.staleWritesRefused} |`,
    `| overlaps covered by an aborted signal and the fence | ${result.coveredOverlaps} |`,
    `| term regressions | ${result.termRegressions} |`,
    `| missed intervals | ${result.missedIntervals} |`,
    `| crashes | ${result.crashes} |`,
    `| unhandled rejections | ${result.unhandledRejections} |`,
    `| nodes that did not exit after app.close() | ${result.leaks} |`,
  ].join('\n');
}
