import type { RedisOptions } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { RedisServer } from '#tools/redis-server.js';
import { waitFor } from '#tools/wait.js';
import { Kettle } from '../../lib/core/index.js';
import type { KettleModuleOptions } from '../../lib/index.js';
import { Harness } from '../support/apps.js';
import { CapturedLogs } from '../support/log-capture.js';
import { uniquePrefix } from '../support/nodes.js';

const harness = new Harness();
afterEach(() => harness.cleanup());

/** A started Kettle on `redis`, in election 'x', logging into the returned lines. */
function kettleOn(redis: KettleModuleOptions['redis']) {
  const logs = new CapturedLogs();
  const kettle = new Kettle({ redis, keyPrefix: uniquePrefix(), leaseTtl: 1000, logger: logs });
  harness.defer(() => kettle.stop());
  kettle.join('x');
  kettle.start();
  const warnings = (pattern: RegExp) =>
    logs.lines.filter((line) => line.level === 'warn' && pattern.test(line.message));
  return { kettle, warnings };
}

describe("kettle's own connections to Redis", () => {
  it('warns once at boot when maxmemory-policy may evict a lease key, naming the policy', async () => {
    // The INFO goes on the lock connection as soon as it is ready, before the first acquire, and
    // Redis answers in order: by the time a node is master, the warning is out if there is one.
    const evicting = await harness.server({
      args: ['--maxmemory', '100mb', '--maxmemory-policy', 'allkeys-lru'],
    });
    const { kettle, warnings } = kettleOn(evicting.url);
    await waitFor(() => kettle.isMaster('x'), 'master');
    expect(warnings(/maxmemory-policy/).map((line) => line.message)).toEqual([
      expect.stringMatching(
        /maxmemory-policy is allkeys-lru: .*evict a lease key.*another node may then take the election while its master still believes it leads.*noeviction/,
      ),
    ]);

    const keeping = await harness.server();
    const quiet = kettleOn(keeping.url);
    await waitFor(() => quiet.kettle.isMaster('x'), 'master on a server that never evicts');
    expect(quiet.warnings(/maxmemory-policy/)).toEqual([]);
  });

  const givingUp: Array<[string, (server: RedisServer) => KettleModuleOptions['redis'], RegExp]> = [
    [
      'options whose retryStrategy returns null',
      (server) => ({ ...server.redisOptions, retryStrategy: () => null }),
      /retryStrategy option returned null/,
    ],
    [
      'a client whose retryStrategy returns null',
      (server) =>
        harness.client(server.url, {
          lazyConnect: true,
          retryStrategy: () => null,
        } as RedisOptions),
      /retryStrategy option returned null/,
    ],
    [
      'options whose retryStrategy throws',
      (server) => ({
        ...server.redisOptions,
        retryStrategy: () => {
          throw new Error('no more');
        },
      }),
      /retryStrategy option threw \(no more\)/,
    ],
  ];

  it.each(givingUp)(
    "%s: kettle's connections come back after Redis restarts, and it elects again",
    async (_, redis, gaveUp) => {
      const server = await harness.server();
      const { kettle, warnings } = kettleOn(redis(server));
      await waitFor(() => kettle.isMaster('x'), 'master');
      const firstTerm = kettle.term('x')!;
      await server.kill();
      await server.start();
      await waitFor(() => (kettle.term('x') ?? 0) > firstTerm, 'master again, with a new term');
      // Said once per connection (commands, subscriber), however many attempts it took.
      expect(warnings(gaveUp).length).toBeGreaterThanOrEqual(1);
      expect(warnings(gaveUp).length).toBeLessThanOrEqual(2);
      expect(
        warnings(/retryStrategy/).every((line) =>
          /Redis \((commands|subscriber)\)/.test(line.message),
        ),
      ).toBe(true);
    },
  );
});

describe('an outage met by many elections of one node', () => {
  it('logs a few lines for 1,000 elections, each counted once, and as few when Redis answers again', async () => {
    const redis = await harness.server();
    const logs = new CapturedLogs();
    const kettle = new Kettle({
      redis: redis.url,
      keyPrefix: uniquePrefix(),
      leaseTtl: 3000,
      interval: 1000,
      logger: logs,
    });
    harness.defer(() => kettle.stop());
    const names = Array.from({ length: 1000 }, (_, i) => `job-${i}`);
    for (const name of names) kettle.join(name, { run: () => undefined });
    kettle.start();
    await waitFor(() => names.every((name) => kettle.isMaster(name)), 'every election led', 10_000);
    const said = (level: string, pattern: RegExp) =>
      logs.lines.filter((line) => line.level === level && pattern.test(String(line.message)));
    // One election's line, or a count of the others in the same turn.
    const elections = (lines: Array<{ message: unknown }>) =>
      lines.reduce((sum, { message }) => {
        const others = /^([\d,]+) other elections? of this node in the same turn/.exec(
          String(message),
        );
        return sum + (others ? Number(others[1]!.replace(/,/g, '')) : 1);
      }, 0);
    redis.pause();
    await waitFor(() => names.every((name) => !kettle.isMaster(name)), 'every master to step down');
    redis.resume();
    await waitFor(
      () => names.every((name) => kettle.isMaster(name)),
      'every election led again',
      15_000,
    );
    const failures = said('warn', /failed \(.*\); retrying$/);
    const recovered = said('log', /the store answers again$/);
    expect(elections(failures)).toBeGreaterThanOrEqual(1000);
    expect(failures.length).toBeLessThan(100);
    expect(elections(recovered)).toBe(1000);
    expect(recovered.length).toBeLessThan(100);
  });
});
