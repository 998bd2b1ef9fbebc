import type { KettleStore, RunClaim, RunClaimAnswer } from '../store/kettle-store.interface.js';
import type { Clock } from '../utils/clock.js';
import { KettleTimeoutError } from '../utils/promise-timeout.js';
import { catchRejection } from '../utils/thrown-values.js';

/** An election with a claim in a round: it hears the answer once, and never throws. */
export interface ClaimRoundMember {
  claimAnswered(answer: RunClaimAnswer): void;
}

interface Entry {
  readonly claim: RunClaim;
  readonly member: ClaimRoundMember;
  /** On the clock's monotonic time: no answer by then, and the claim fails. */
  readonly deadline: number;
  answered: boolean;
}

/** The longest a clock timer waits at once (setTimeout's limit); a later deadline waits again. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The run claims a node's elections make in one turn, sent together: one store call
 * (`claimRuns`), or a `claimRun` each where the store has no batch. Elections on one interval
 * fall due in the same slice of the timer wheel: at 10,000 of them, one call and one timer a round
 * rather than a promise chain and a timer per claim.
 *
 * Each claim is answered as soon as its answer is there, and fails alone at its own deadline (its
 * master's lease deadline): a slow command of the round (one shard of a Cluster, one chunk of a
 * long batch) holds up only the claims it carries. A claim that timed out has an unknown outcome,
 * which its master treats as such.
 */
export class ClaimRound {
  private queue: Entry[] = [];

  constructor(
    private readonly store: KettleStore,
    /** Its timers time the claims out: the shared timer wheel's. */
    private readonly clock: Clock,
  ) {}

  /** Queues `claim`; `member` hears its answer, or its failure at `deadline` (monotonic time). */
  add(claim: RunClaim, deadline: number, member: ClaimRoundMember): void {
    // After the callback that queued the first one: the wheel fires a slice's timers in one.
    if (this.queue.length === 0) queueMicrotask(() => this.send());
    this.queue.push({ claim, member, deadline, answered: false });
  }

  private send(): void {
    const entries = this.queue;
    this.queue = [];
    const sentAt = this.clock.now();
    let left = entries.length;
    let timer: unknown;
    const answer = (index: number, claimAnswer: RunClaimAnswer) => {
      const entry = entries[index];
      if (!entry || entry.answered) return;
      entry.answered = true;
      if (--left === 0) this.clock.clearTimeout(timer);
      entry.member.claimAnswered(claimAnswer);
    };
    const failUnanswered = (error: unknown) =>
      entries.forEach((_, i) => answer(i, { outcome: 'failed', error }));
    // Fails the claims whose deadline passed, then waits for the next one's.
    const timeOut = () => {
      const now = this.clock.now();
      let next = Infinity;
      let timedOut = false;
      entries.forEach((entry, i) => {
        if (entry.answered) return;
        if (entry.deadline > now) return void (next = Math.min(next, entry.deadline));
        timedOut = true;
        const error = new KettleTimeoutError('claim run', entry.deadline - sentAt);
        answer(i, { outcome: 'failed', error });
      });
      if (left > 0) arm(next);
      if (timedOut) this.commandTimedOut(now - sentAt);
    };
    // After a blocked event loop the timer may run before the answers that arrived meanwhile are
    // read: the I/O of this turn goes first (setImmediate runs after it).
    const arm = (deadline: number) => {
      if (!Number.isFinite(deadline)) return;
      const ms = Math.min(Math.max(1, deadline - this.clock.now()), MAX_TIMER_MS);
      timer = this.clock.setTimeout(() => setImmediate(timeOut), ms);
    };
    let first = Infinity;
    for (const entry of entries) first = Math.min(first, entry.deadline);
    arm(first);
    try {
      this.call(entries, answer, failUnanswered);
    } catch (error) {
      failUnanswered(error);
    }
  }

  private call(
    entries: readonly Entry[],
    answer: (index: number, claimAnswer: RunClaimAnswer) => void,
    failUnanswered: (error: unknown) => void,
  ): void {
    const { store } = this;
    if (store.claimRuns) {
      const claims = entries.map((entry) => entry.claim);
      // A custom store's claimRuns may be async after all: its rejection is the claims' failure.
      catchRejection(store.claimRuns(claims, answer), failUnanswered);
      return;
    }
    entries.forEach(({ claim }, i) => void claimOne(store, claim).then((a) => answer(i, a)));
  }

  /** The store hears that a command went unanswered: its connection may be silently dead. */
  private commandTimedOut(waitedMs: number): void {
    try {
      this.store.commandTimedOut?.(waitedMs);
    } catch {
      // Nothing to add to the timeout.
    }
  }
}

/** `claimRun` for a store with no batch: its failure is the claim's answer. */
function claimOne(store: KettleStore, claim: RunClaim): Promise<RunClaimAnswer> {
  const { name, lease, intervalMs, ttlMs } = claim;
  const failed = (error: unknown): RunClaimAnswer => ({ outcome: 'failed', error });
  try {
    return store.claimRun(name, lease, intervalMs, ttlMs).then((answer) => answer, failed);
  } catch (error) {
    return Promise.resolve(failed(error));
  }
}
