import { Redis } from 'ioredis';
import { SHARED_REDIS_URL } from './shared-redis.js';

/** After the run: delete what the tests left in the shared Redis (their prefixes all start `test:`). */
export async function teardown(): Promise<void> {
  const redis = new Redis(SHARED_REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', 'test:*', 'COUNT', 1000);
      if (keys.length > 0) await redis.unlink(...keys);
      cursor = next;
    } while (cursor !== '0');
  } catch {
    // No shared Redis to tidy.
  } finally {
    redis.disconnect();
  }
}
