import { describe, expect, it } from 'vitest';
import { TurnBatch } from '../../lib/core/utils/turn-batch.js';

/** A batch that doubles numbers and records each send; `fail` makes a send reject. */
function doubler(options: { maxItems?: number; groupOf?: (n: number) => number } = {}) {
  const sends: number[][] = [];
  let fail: Error | undefined;
  const batch = new TurnBatch<number, number>({
    send: async (items) => {
      sends.push(items);
      if (fail) throw fail;
      return items.map((n) => n * 2);
    },
    maxItems: options.maxItems ?? 100,
    groupOf: options.groupOf,
  });
  return { batch, sends, failWith: (error?: Error) => (fail = error) };
}

describe('TurnBatch', () => {
  it('sends what one turn queued as one command, and answers each item with its own answer', async () => {
    const { batch, sends } = doubler();
    const answers = await Promise.all([1, 2, 3].map((n) => batch.submit(n)));
    expect(answers).toEqual([2, 4, 6]);
    expect(sends).toEqual([[1, 2, 3]]);
  });

  it('sends the items of later turns in commands of their own', async () => {
    const { batch, sends } = doubler();
    await batch.submit(1);
    await Promise.all([batch.submit(2), batch.submit(3)]);
    expect(sends).toEqual([[1], [2, 3]]);
  });

  it('never mixes groups in one command, and splits a group at maxItems', async () => {
    const { batch, sends } = doubler({ maxItems: 2, groupOf: (n) => n % 2 });
    const answers = await Promise.all([1, 2, 3, 4, 5].map((n) => batch.submit(n)));
    expect(answers).toEqual([2, 4, 6, 8, 10]);
    expect(sends).toEqual([[1, 3], [5], [2, 4]]);
  });

  it('rejects every item of a command that failed, and only those', async () => {
    const { batch, failWith } = doubler({ groupOf: (n) => n });
    failWith(new Error('connection closed'));
    const failed = Promise.allSettled([batch.submit(1), batch.submit(1)]);
    expect((await failed).map((r) => r.status)).toEqual(['rejected', 'rejected']);
    failWith(undefined);
    await expect(batch.submit(1)).resolves.toBe(2);
  });

  it('rejects the items when the answers do not match them one for one', async () => {
    const batch = new TurnBatch<number, number>({ send: async () => [1], maxItems: 10 });
    await expect(Promise.all([batch.submit(1), batch.submit(2)])).rejects.toThrow(
      'a batch of 2 got 1 answers',
    );
  });

  it('rejects the items when send throws instead of rejecting', async () => {
    const batch = new TurnBatch<number, number>({
      send: () => {
        throw new Error('not connected');
      },
      maxItems: 10,
    });
    await expect(batch.submit(1)).rejects.toThrow('not connected');
  });

  it('sends at once on flush(), before anything called after it', async () => {
    const order: string[] = [];
    const batch = new TurnBatch<string, string>({
      send: async (items) => {
        order.push(...items);
        return items;
      },
      maxItems: 10,
    });
    const queued = batch.submit('queued first');
    batch.flush();
    order.push('sent on its own');
    await queued;
    expect(order).toEqual(['queued first', 'sent on its own']);
  });

  it('refuses a maxItems below 1', () => {
    expect(() => new TurnBatch({ send: async () => [], maxItems: 0 })).toThrow(
      'maxItems must be >= 1: 0',
    );
  });
});
