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
