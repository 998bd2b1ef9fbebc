import type { Action, HandOver, Leadership, RunRecord, Spread } from './cluster-state.js';
import { spreadText } from './format.js';

/**
 * The invariants a scripted run checks, from what the nodes reported. Each returns the problems it
 * found, in words; none means it held.
 */

/**
 * No master acted after a newer one was elected: in the order they happened, run terms never go
 * back, and no run of a term comes after the election of a higher one. Both hold by causality (the
 * old master's run comes before its lease ends, which comes before the new election), so no timing
 * slack is needed: a violation is two masters at once.
 */
export function noStaleRuns(
  runs: readonly RunRecord[],
  leaderships: readonly Leadership[],
): string[] {
  const problems: string[] = [];
  const ordered = [...runs].sort((a, b) => a.at - b.at);
  ordered.forEach((run, i) => {
    const before = ordered[i - 1];
    if (before && run.term < before.term)
      problems.push(
        `${run.nodeId} ran in term ${run.term} at ${run.at}, after ${before.nodeId} ran in term ${before.term}`,
      );
    const newer = leaderships.find((l) => l.term > run.term && l.at < run.at);
    if (newer)
      problems.push(
        `${run.nodeId} ran in term ${run.term} at ${run.at}, after ${newer.nodeId} became master in term ${newer.term} at ${newer.at}`,
      );
  });
  return problems;
}

/**
 * No two nodes ran in one interval. Runs claim their slot on the store's clock, one per interval,
 * so a run by another node comes at least an interval after a master's on-time run. Not after a
 * new master's first run: that one may catch up on the interval its hand-over left unrun, late in
 * that interval. Half an interval of slack allows for the time a run takes to be reported.
 */
export function oneRunPerInterval(runs: readonly RunRecord[], intervalMs: number): string[] {
  const problems: string[] = [];
  const ordered = [...runs].sort((a, b) => a.at - b.at);
  for (let i = 1; i < ordered.length; i++) {
    const [before, run] = [ordered[i - 1], ordered[i]];
    if (run.nodeId === before.nodeId) continue;
    if (run.term === before.term)
      problems.push(`${before.nodeId} and ${run.nodeId} both ran in term ${run.term}`);
    const catchingUp = ordered.findIndex((r) => r.term === before.term) === i - 1;
    if (!catchingUp && run.at - before.at < intervalMs / 2)
      problems.push(
        `${run.nodeId} ran at ${run.at}, ${run.at - before.at} ms after ${before.nodeId}: two runs in one interval`,
      );
  }
  return problems;
}

/** No slot ran twice: whichever node ran it, a run's scheduledAt is a slot of its own. */
export function oneRunPerSlot(runs: readonly RunRecord[]): string[] {
  const bySlot = new Map<number, RunRecord>();
  const problems: string[] = [];
  for (const run of runs) {
    const first = bySlot.get(run.slot);
    if (first)
      problems.push(
        `the slot ${new Date(run.slot).toISOString()} ran twice: by ${first.nodeId} (term ${first.term}) and ${run.nodeId} (term ${run.term})`,
      );
    else bySlot.set(run.slot, run);
  }
  return problems;
}

/** Each leadership had a term of its own, and terms rose in the order leaderships began. */
export function termsIncrease(leaderships: readonly Leadership[]): string[] {
  const problems: string[] = [];
  const ordered = [...leaderships].sort((a, b) => a.at - b.at);
  for (let i = 1; i < ordered.length; i++) {
    const [before, next] = [ordered[i - 1], ordered[i]];
    if (next.term <= before.term)
      problems.push(
        `${next.nodeId} became master in term ${next.term} after ${before.nodeId} in term ${before.term}`,
      );
  }
  return problems;
}

/** Every paused master said it was no longer master, in the term it was paused in (unless killed). */
export function pausesEndedInStepDown(actions: readonly Action[]): string[] {
  const killedAfter = (pause: Action) =>
    actions.some((a) => a.kind === 'kill' && a.nodeId === pause.nodeId && a.at >= pause.at);
  return actions
    .filter((action) => action.kind === 'pause' && !action.steppedDown && !killedAfter(action))
    .map((pause) => `${pause.nodeId}, paused as master of term ${pause.term}, never stepped down`);
}

/** Another node took over from every master the demo killed, stopped or paused. */
export function everyActionHandedOver(
  actions: readonly Action[],
  handOvers: readonly HandOver[],
): string[] {
  return actions
    .filter((a) => !handOvers.some((h) => h.from === a.nodeId && h.fromTerm === a.term))
    .map((a) => `no other node took over after the demo's ${a.kind} of ${a.nodeId}`);
}

/**
 * Once settled, every node that was up led the balanced elections' share, give or take one: what
 * `balance` aims at. A spread is recorded only after it held for the settle time, so a hand-over
 * under way is not judged.
 */
export function spreadsWithinShare(spreads: readonly Spread[]): string[] {
  return spreads.flatMap(({ leading, share, at }) =>
    Object.entries(leading)
      .filter(([, count]) => Math.abs(count - share) > 1)
      .map(
        ([nodeId, count]) =>
          `${nodeId} led ${count} balanced elections at ${at}, more than one off its share of ${share} (${spreadText(leading)})`,
      ),
  );
}

/** Every check of a run, in one list. */
export function allProblems(
  state: {
    runs: RunRecord[];
    leaderships: Leadership[];
    actions: Action[];
    handOvers: HandOver[];
    spreads: Spread[];
  },
  intervalMs: number,
): string[] {
  return [
    ...noStaleRuns(state.runs, state.leaderships),
    ...oneRunPerInterval(state.runs, intervalMs),
    ...oneRunPerSlot(state.runs),
    ...termsIncrease(state.leaderships),
    ...pausesEndedInStepDown(state.actions),
    ...everyActionHandedOver(state.actions, state.handOvers),
    ...spreadsWithinShare(state.spreads),
  ];
}
