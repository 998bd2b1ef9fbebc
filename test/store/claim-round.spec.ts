import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { waitFor } from '#tools/wait.js';
import { MemoryStore, RedisStore } from '../../lib/index.js';
import { ClaimRound } from '../../lib/core/election/claim-round.js';
import { newLease } from '../../lib/core/store/lease.js';
import type { RunClaimAnswer } from '../../lib/core/store/kettle-store.interface.js';
import { KettleTimeoutError } from '../../lib/core/utils/promise-timeout.js';
import { systemClock } from '../../lib/core/utils/clock.js';
import { connectionUnanswered } from '../../lib/core/kettle.messages.js';
import { uniquePrefix } from '../support/nodes.js';

/** What a member of a round heard: its answers, in order. */
function member() {
  const answers: RunClaimAnswer[] = [];
  return { answers, claimAnswered: (answer: RunClaimAnswer) => answers.push(answer) };
}

/**
 * The claims a node's elections make in one turn go to the store together. A private server:
 * its command counts are this file's alone, and it can be paused.
 */
describe('ClaimRound', () => {
  let server: RedisServer;
  const stores: { close(): Promise<void> }[] = [];
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await server?.kill();
  });

  async function redisStore(onError?: (where: string, error: Error) => void): Promise<RedisStore> {
    const store = new RedisStore({
      connection: { url: server.url },
      keyPrefix: uniquePrefix(),
      onError,
    });
    stores.push(store);
    await waitFor(() => store.connected, 'the store to connect');
    return store;
  }

  const scriptCalls = async () =>
    (await server.commandCalls('eval')) + (await server.commandCalls('evalsha'));

  it('sends the claims of one turn in one call and answers each member its own', async () => {
    const store = await redisStore();
    const round = new ClaimRound(store, systemClock);
    const lease = newLease('a', 5000);
    const names = Array.from({ length: 300 }, (_, i) => `job-${i}`);
    // Every other election is held by another node.
    await Promise.all(
      names.map((name, i) => store.acquire(name, i % 2 ? newLease('b', 5000) : lease, 5000)),
    );
    const members = names.map(() => member());
    const before = await scriptCalls();
    names.forEach((name, i) =>
      round.add({ name, lease, intervalMs: 60_000, ttlMs: 5000 }, 1000, members[i]!),
    );
    await waitFor(() => members.every((m) => m.answers.length > 0), 'every member answered');
    expect(await scriptCalls()).toBe(before + 1);
    members.forEach((m, i) =>
      expect(m.answers).toEqual([
        i % 2 ? { outcome: 'not-holder' } : expect.objectContaining({ outcome: 'run' }),
      ]),
    );
  });

  it('fails every claim of a round with no answer within its shortest limit, and says so to the store', async () => {
    const reports: string[] = [];
    const store = await redisStore((_, error) => reports.push(error.message));
    const round = new ClaimRound(store, systemClock);
    const lease = newLease('a', 5000);
    await store.acquire('x', lease, 5000);
    const [patient, pressed] = [member(), member()];
    server.pause();
    try {
      const startedAt = systemClock.now();
      round.add({ name: 'x', lease, intervalMs: 1000, ttlMs: 5000 }, 2000, patient);
      round.add({ name: 'y', lease, intervalMs: 1000, ttlMs: 5000 }, 100, pressed);
      await waitFor(() => patient.answers.length > 0, 'the round to time out');
      expect(systemClock.now() - startedAt).toBeLessThan(1500);
    } finally {
      server.resume();
    }
    for (const m of [patient, pressed]) {
      expect(m.answers).toHaveLength(1);
      expect(m.answers[0]).toMatchObject({ outcome: 'failed' });
      const [answer] = m.answers;
      if (answer?.outcome === 'failed') expect(answer.error).toBeInstanceOf(KettleTimeoutError);
    }
    // The connection that did not answer is replaced, once for the round.
    expect(reports.filter((report) => report === connectionUnanswered())).toHaveLength(1);
  });

  it('claims one by one on a store with no batch, each failure its own', async () => {
    const store = new MemoryStore();
    stores.push(store);
    const round = new ClaimRound(store, systemClock);
    const lease = newLease('a', 5000);
    await store.acquire('held', lease, 5000);
    const [held, other] = [member(), member()];
    round.add({ name: 'held', lease, intervalMs: 1000, ttlMs: 5000 }, 1000, held);
    round.add({ name: 'other', lease, intervalMs: 1000, ttlMs: 5000 }, 1000, other);
    await waitFor(() => held.answers.length > 0 && other.answers.length > 0, 'both answered');
    expect(held.answers).toEqual([expect.objectContaining({ outcome: 'run' })]);
    expect(other.answers).toEqual([{ outcome: 'not-holder' }]);
  });
});
