import type { KettleStore, RunClaim, RunClaimAnswer } from '../store/kettle-store.interface.js';
import type { Clock } from '../utils/clock.js';
import { withTimeout } from '../utils/promise-timeout.js';

/** An election with a claim in a round: it hears the answer once, and never throws. */
export interface ClaimRoundMember {
  claimAnswered(answer: RunClaimAnswer): void;
}

interface Entry {
  readonly claim: RunClaim;
  readonly member: ClaimRoundMember;
}

/**
 * The run claims a node's elections make in one turn, sent as one store call (`claimRuns`), or as
 * a `claimRun` each where the store has no batch. Elections on one interval fall due in the same
 * slice of the timer wheel: at 10,000 of them, one call, one promise and one timer a round rather
 * than a few of each per claim.
 *
 * A round waits as long as its most pressed claim may (the shortest `timeoutMs`): a claim that
 * times out has an unknown outcome, which is safe to retry, while one answered after its lease's
 * deadline could mark a slot that never runs.
 */
export class ClaimRound {
  private queue: Entry[] = [];
  private limitMs = Infinity;

  constructor(
    private readonly store: KettleStore,
    /** Its timers time the rounds out: the shared timer wheel's. */
    private readonly clock: Clock,
  ) {}

  /** Queues `claim`; `member` hears its answer once the turn's claims have gone and come back. */
  add(claim: RunClaim, timeoutMs: number, member: ClaimRoundMember): void {
    // After the callback that queued the first one: the wheel fires a slice's timers in one.
    if (this.queue.length === 0) queueMicrotask(() => this.send());
    this.queue.push({ claim, member });
    this.limitMs = Math.min(this.limitMs, timeoutMs);
  }

  private send(): void {
    const entries = this.queue;
    const limitMs = this.limitMs;
    this.queue = [];
    this.limitMs = Infinity;
    const sentAt = this.clock.now();
    withTimeout(
      this.call(entries),
      limitMs,
      'claim run',
      () => this.store.commandTimedOut?.(this.clock.now() - sentAt),
      this.clock,
    ).then(
      (answers) => {
        for (let i = 0; i < entries.length; i++) entries[i]!.member.claimAnswered(answers[i]!);
      },
      (error: unknown) => {
        const failed = { outcome: 'failed', error } as const;
        for (const entry of entries) entry.member.claimAnswered(failed);
      },
    );
  }

  private call(entries: readonly Entry[]): Promise<readonly RunClaimAnswer[]> {
    const { store } = this;
    try {
      if (store.claimRuns) {
        const answers = store.claimRuns(entries.map((entry) => entry.claim));
        return answers.then((all) => {
          if (all.length !== entries.length)
            throw new Error(`${entries.length} claims got ${all.length} answers`);
          return all;
        });
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return Promise.all(entries.map(({ claim }) => claimOne(store, claim)));
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
