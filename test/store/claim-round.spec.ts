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

/** A deadline `ms` from now, on the clock the rounds here run on. */
const inMs = (ms: number) => systemClock.now() + ms;

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
      round.add({ name, lease, intervalMs: 60_000, ttlMs: 5000 }, inMs(1000), members[i]!),
    );
    await waitFor(() => members.every((m) => m.answers.length > 0), 'every member answered');
    expect(await scriptCalls()).toBe(before + 1);
    members.forEach((m, i) =>
      expect(m.answers).toEqual([
        i % 2 ? { outcome: 'not-holder' } : expect.objectContaining({ outcome: 'run' }),
      ]),
    );
  });

  it('fails a claim with no answer in time, and tells the store, which opens a new connection', async () => {
    const reports: string[] = [];
    const store = await redisStore((_, error) => reports.push(error.message));
    const round = new ClaimRound(store, systemClock);
    const lease = newLease('a', 5000);
    await store.acquire('x', lease, 5000);
    const pressed = member();
    server.pause();
    try {
      // While the server is paused only the claim's own deadline can answer it.
      round.add({ name: 'x', lease, intervalMs: 1000, ttlMs: 5000 }, inMs(100), pressed);
      await waitFor(() => pressed.answers.length > 0, 'the claim to time out');
    } finally {
      server.resume();
    }
    expect(pressed.answers).toEqual([{ outcome: 'failed', error: expect.any(KettleTimeoutError) }]);
    expect(reports).toContain(connectionUnanswered());
  });

  it('fails every claim at once when the store cannot send', async () => {
    const store = new RedisStore({
      connection: { url: 'redis://127.0.0.1:1' },
      keyPrefix: uniquePrefix(),
    });
    stores.push(store);
    const round = new ClaimRound(store, systemClock);
    const members = [member(), member()];
    const lease = newLease('a', 5000);
    members.forEach((m, i) =>
      round.add({ name: `e${i}`, lease, intervalMs: 1000, ttlMs: 5000 }, inMs(5000), m),
    );
    await waitFor(() => members.every((m) => m.answers.length > 0), 'both answered');
    for (const m of members)
      expect(m.answers).toEqual([
        { outcome: 'failed', error: expect.objectContaining({ reason: 'not-connected' }) },
      ]);
  });

  it('claims one by one on a store with no batch, each failure its own', async () => {
    const store = new MemoryStore();
    stores.push(store);
    const round = new ClaimRound(store, systemClock);
    const lease = newLease('a', 5000);
    await store.acquire('held', lease, 5000);
    const [held, other] = [member(), member()];
    round.add({ name: 'held', lease, intervalMs: 1000, ttlMs: 5000 }, inMs(1000), held);
    round.add({ name: 'other', lease, intervalMs: 1000, ttlMs: 5000 }, inMs(1000), other);
    await waitFor(() => held.answers.length > 0 && other.answers.length > 0, 'both answered');
    expect(held.answers).toEqual([expect.objectContaining({ outcome: 'run' })]);
    expect(other.answers).toEqual([{ outcome: 'not-holder' }]);
  });
});
