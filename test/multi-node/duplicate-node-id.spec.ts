import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '#tools/wait.js';
import { Kettle } from '../../lib/core/index.js';
import { CapturedLogs } from '../support/log-capture.js';
import { uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function node(keyPrefix: string, nodeId: string) {
  const logs = new CapturedLogs();
  const kettle = new Kettle({
    redis: SHARED_REDIS_URL,
    keyPrefix,
    nodeId,
    leaseTtl: 1000,
    shutdownTimeout: 200,
    logger: logs,
  });
  kettle.join('job');
  kettle.start();
  cleanups.push(() => kettle.stop());
  const clashes = () =>
    logs.lines.filter((l) => l.level === 'warn' && /the same nodeId/.test(l.message));
  return { kettle, logs, clashes };
}

describe('two processes with one nodeId', () => {
  it('each warns once, naming the id; a node with an id of its own does not', async () => {
    const keyPrefix = uniquePrefix();
    const a = node(keyPrefix, 'web-1');
    const b = node(keyPrefix, 'web-1');
    const c = node(keyPrefix, 'web-2');
    await waitFor(
      () => a.clashes().length > 0 && b.clashes().length > 0,
      'both to notice the clash',
      10_000,
    );
    // Several more refreshes: still one warning each.
    await sleep(2500);
    for (const { clashes } of [a, b]) {
      expect(clashes().map((l) => l.message)).toEqual([
        expect.stringMatching(/^another process runs with the same nodeId "web-1" on this store/),
      ]);
    }
    expect(c.clashes()).toEqual([]);
    const redis = new Redis(SHARED_REDIS_URL);
    cleanups.push(() => redis.disconnect());
    expect(await redis.exists(`${keyPrefix}node:{web-1}`, `${keyPrefix}node:{web-2}`)).toBe(2);
  });

  it("a restart with the same id (its old process's mark still there) is no clash", async () => {
    const keyPrefix = uniquePrefix();
    const redis = new Redis(SHARED_REDIS_URL);
    cleanups.push(() => redis.disconnect());
    // What a process killed a moment ago leaves: its token, for a while yet.
    await redis.set(`${keyPrefix}node:{web-1}`, 'previous-process', 'PX', 30_000);
    const restarted = node(keyPrefix, 'web-1');
    await waitFor(
      async () => (await redis.get(`${keyPrefix}node:{web-1}`)) !== 'previous-process',
      'the restarted node to mark its id',
    );
    await sleep(2500); // several refreshes
    expect(restarted.clashes()).toEqual([]);
  });
});
