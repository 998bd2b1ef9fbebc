import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { sleep, waitFor } from '#tools/wait.js';
import { Kettle, type KettleLogger } from '../../lib/core/index.js';
import { uniquePrefix } from '../support/nodes.js';

const silent: KettleLogger = { log() {}, warn() {}, error() {}, debug() {} };
const SHUTDOWN = 1000;
const LEASE = 3000;

/** `stop()` keeps to `shutdownTimeout` on a frozen Redis, with `balance` as without it. */
describe('balance and a frozen Redis', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /**
   * A follower of another node's long lease (no acquire on its way), whose next fleet beat meets
   * a frozen Redis: how long its stop() takes, or undefined past 5 s.
   */
  async function stopOnFrozenRedis(balance: boolean): Promise<number | undefined> {
    const frozen = await RedisServer.start();
    cleanups.push(() => frozen.kill());
    const redis = new Redis(frozen.url);
    cleanups.push(() => redis.disconnect());
    const prefix = uniquePrefix();
    await redis.set(`${prefix}{job}:lock`, 'other#0', 'PX', 60_000);
    const kettle = new Kettle({
      redis: frozen.url,
      keyPrefix: prefix,
      nodeId: 'a',
      leaseTtl: LEASE,
      shutdownTimeout: SHUTDOWN,
      balance,
      logger: silent,
    });
    kettle.join('job', { run() {} });
    kettle.start();
    // Its first acquire was told "held" for a minute: it looks again only then.
    await sleep(500);
    expect(kettle.electionOf('job')!.phase).toBe('follower');
    // Frozen between two beats (one per renew period, LEASE / 3): the next one gets no answer.
    if (balance) await waitFor(async () => (await redis.exists(`${prefix}fleet`)) === 1, 'a beat');
    frozen.pause();
    cleanups.push(() => frozen.resume());
    await sleep(LEASE / 3 + 200);
    const start = performance.now();
    const stopped = kettle.stop().then(() => performance.now() - start);
    return Promise.race([stopped, sleep(5000).then(() => undefined)]);
  }

  it('without balance, stop() takes at most shutdownTimeout', async () => {
    const took = await stopOnFrozenRedis(false);
    expect(took).toBeDefined();
    expect(took!).toBeLessThan(SHUTDOWN + 300);
  });

  it('with balance, stop() takes at most shutdownTimeout, a beat on its way or not', async () => {
    const took = await stopOnFrozenRedis(true);
    expect(took, 'stop() still pending 5 s later').toBeDefined();
    expect(took!).toBeLessThan(SHUTDOWN + 300);
  });
});
