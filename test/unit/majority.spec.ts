import { describe, expect, it } from 'vitest';
import { majorityVote, settleWhenDecided, type Vote } from '../../lib/core/store/majority.js';
import { settle } from './manual-clock.js';

/** A server's answer that the test gives, or never does: a hung server. */
class Answer<T> {
  readonly promise: Promise<T>;
  give!: (value: T) => void;
  fail!: (error: Error) => void;
  constructor() {
    this.promise = new Promise<T>((resolve, reject) => {
      this.give = resolve;
      this.fail = reject;
    });
  }
}

function servers(count: number): Array<Answer<boolean>> {
  return Array.from({ length: count }, () => new Answer<boolean>());
}

/** The vote of `answers` among five servers (majority three), as far as it has been decided. */
function vote(answers: Array<Answer<boolean>>) {
  let decided: Vote<boolean> | undefined;
  let error: unknown;
  majorityVote(
    answers.map((answer) => answer.promise),
    (value) => value,
    Math.floor(answers.length / 2) + 1,
  ).then(
    (result) => (decided = result),
    (thrown: unknown) => (error = thrown),
  );
  return { decided: () => decided, error: () => error };
}

describe("the quorum's vote counting", () => {
  it('says yes as soon as a majority said yes, without waiting for the slowest server', async () => {
    const answers = servers(5);
    const counted = vote(answers);
    answers[0].give(true);
    answers[3].give(true);
    await settle();
    expect(counted.decided()).toBeUndefined();
    answers[1].give(true);
    await settle();
    expect(counted.decided()).toEqual({
      outcome: 'yes',
      yes: [true, true, true],
      no: [],
      failures: [],
    });
  });

  it('says no once so many said no that no majority can say yes', async () => {
    const answers = servers(5);
    const counted = vote(answers);
    answers[0].give(false);
    answers[1].give(true);
    answers[2].give(false);
    await settle();
    expect(counted.decided()).toBeUndefined();
    answers[4].give(false);
    await settle();
    expect(counted.decided()?.outcome).toBe('no');
  });

  it('says unreachable only when failures leave no majority for either answer', async () => {
    const answers = servers(5);
    const counted = vote(answers);
    answers[0].fail(new Error('connection lost'));
    answers[1].fail(new Error('timed out'));
    answers[2].give(false);
    await settle();
    // Two still to answer could make a plain no (three): a failure that came first does not
    // turn a refusal into an error.
    expect(counted.decided()).toBeUndefined();
    answers[3].fail(new Error('connection lost'));
    await settle();
    expect(counted.decided()).toEqual({
      outcome: 'unreachable',
      yes: [],
      no: [false],
      failures: ['redis[0]: connection lost', 'redis[1]: timed out', 'redis[3]: connection lost'],
    });
  });

  it('waits for the answers that could still make a no, then says no rather than unreachable', async () => {
    const answers = servers(3);
    const counted = vote(answers);
    answers[0].fail(new Error('down'));
    answers[1].give(false);
    await settle();
    expect(counted.decided()).toBeUndefined();
    answers[2].give(false);
    await settle();
    expect(counted.decided()).toMatchObject({ outcome: 'no', failures: ['redis[0]: down'] });
  });

  it('rejects when the decision throws, and ignores the answers after a decision', async () => {
    const answers = servers(3);
    let decisions = 0;
    const settled = settleWhenDecided(
      answers.map((answer) => answer.promise),
      (given) => {
        decisions++;
        if (given.length === 2) throw new Error('split brain');
        return undefined;
      },
    );
    answers[0].give(true);
    answers[1].give(true);
    await expect(settled).rejects.toThrow('split brain');
    answers[2].give(true);
    await settle();
    expect(decisions).toBe(2);
  });
});
