import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ClaimRound } from '../../lib/core/election/claim-round.js';
import { newLease } from '../../lib/core/store/lease.js';
import type { RunClaim, RunClaimAnswer } from '../../lib/core/store/kettle-store.interface.js';
import { MemoryStore } from '../../lib/core/store/memory.store.js';
import { KettleTimeoutError } from '../../lib/core/utils/promise-timeout.js';
import { Link } from './election-rig.js';
import { ManualClock } from './manual-clock.js';

/** What a member of a round heard, and when on the clock. */
function member(clock: ManualClock) {
  const heard: { answer: RunClaimAnswer; at: number }[] = [];
  return {
    heard,
    claimAnswered: (answer: RunClaimAnswer) => heard.push({ answer, at: clock.now() }),
  };
}

/**
 * A round over a memory store reached through a link whose answers come back `delayMs` later. The
 * clock is at 0: a claim's deadline is also the time it has.
 */
async function roundWith(names: string[], delayMs: number) {
  const clock = new ManualClock();
  const store = new MemoryStore(`unit:${randomBytes(4).toString('hex')}:`, clock);
  const link = new Link(store, clock);
  const lease = newLease('a', 5000);
  for (const name of names) await store.acquire(name, lease, 5000);
  link.delayMs = delayMs;
  const round = new ClaimRound(link, clock);
  const claim = (name: string) => ({ name, lease, intervalMs: 1000, ttlMs: 5000 });
  return { clock, link, round, claim };
}

describe('ClaimRound on a controlled clock', () => {
  it('answers each claim as its answer comes: one held back keeps no other waiting', async () => {
    const { clock, link, round, claim } = await roundWith(['quick', 'slow'], 10);
    link.holdAnswers('claimRun', 'slow');
    const [quick, slow] = [member(clock), member(clock)];
    round.add(claim('quick'), 500, quick);
    round.add(claim('slow'), 500, slow);
    await clock.advance(30);
    expect(quick.heard).toEqual([{ answer: expect.objectContaining({ outcome: 'run' }), at: 20 }]);
    expect(slow.heard).toEqual([]);
    link.deliver();
    await clock.advance(30);
    // Let go at 30, back after the link's 10 ms.
    expect(slow.heard).toEqual([{ answer: expect.objectContaining({ outcome: 'run' }), at: 40 }]);
    expect(quick.heard).toHaveLength(1);
  });

  it('fails each unanswered claim at its own time limit, not at the shortest of the round', async () => {
    const { clock, link, round, claim } = await roundWith(['pressed', 'patient'], 10);
    link.holdAnswers('claimRun');
    const [pressed, patient] = [member(clock), member(clock)];
    round.add(claim('pressed'), 100, pressed);
    round.add(claim('patient'), 400, patient);
    await clock.advance(150);
    expect(pressed.heard).toEqual([
      { answer: { outcome: 'failed', error: expect.any(KettleTimeoutError) }, at: 100 },
    ]);
    expect(patient.heard).toEqual([]);
    // Answered within its own limit: a run, and the late answer to the other is not heard.
    link.deliver();
    await clock.advance(30);
    expect(patient.heard).toEqual([
      { answer: expect.objectContaining({ outcome: 'run' }), at: 160 },
    ]);
    expect(pressed.heard).toHaveLength(1);
  });
});

describe('ClaimRound with a custom store that batches', () => {
  /** A store that answers claims in batches as a custom one might: here, through a link. */
  class Batching extends Link {
    failWith?: Error;
    /** Answers the first claim at once, then throws or rejects, as `failWith` and `async` say. */
    constructor(
      store: MemoryStore,
      clock: ManualClock,
      private readonly async: boolean,
    ) {
      super(store, clock);
    }
    claimRuns(claims: readonly RunClaim[], answered: (i: number, a: RunClaimAnswer) => void) {
      answered(0, { outcome: 'wait', waitMs: 1 });
      const error = new Error(`no batch for ${claims.length - 1} of them`);
      if (this.async) return Promise.reject(error) as unknown as void;
      throw error;
    }
  }

  it.each([false, true])(
    'fails the claims it did not answer when its claimRuns throws or rejects (async: %s)',
    async (async) => {
      const clock = new ManualClock();
      const store = new MemoryStore(`unit:${randomBytes(4).toString('hex')}:`, clock);
      const round = new ClaimRound(new Batching(store, clock, async), clock);
      const lease = newLease('a', 5000);
      const members = [member(clock), member(clock), member(clock)];
      members.forEach((m, i) =>
        round.add({ name: `e${i}`, lease, intervalMs: 1000, ttlMs: 5000 }, 1000, m),
      );
      await clock.advance(0);
      expect(members[0]!.heard).toEqual([{ answer: { outcome: 'wait', waitMs: 1 }, at: 0 }]);
      for (const m of members.slice(1))
        expect(m.heard).toEqual([
          {
            answer: { outcome: 'failed', error: new Error('no batch for 2 of them') },
            at: 0,
          },
        ]);
      // Nothing more at the deadline: each claim is answered once.
      await clock.advance(2000);
      expect(members.map((m) => m.heard.length)).toEqual([1, 1, 1]);
    },
  );
});
