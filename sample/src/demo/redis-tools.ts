import { Redis } from 'ioredis';

/** A short-lived connection that fails fast instead of retrying: for probing and tidying up. */
function connect(url: string, timeoutMs: number): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
  });
  client.on('error', () => undefined);
  return client;
}

/** Whether a Redis at `url` answers PING within `timeoutMs`. */
export async function redisAnswers(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = connect(url, timeoutMs);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Deletes the keys under `prefix` (the demo's terms and last runs), so that a demo leaves nothing behind. */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const client = connect(url, 2000);
  let deleted = 0;
  try {
    await client.connect();
    // The prefix is the demo's own random one; SCAN, not KEYS, so as not to block a shared Redis.
    for await (const keys of client.scanStream({ match: `${prefix}*`, count: 100 })) {
      if ((keys as string[]).length > 0) deleted += await client.del(...(keys as string[]));
    }
    return deleted;
  } finally {
    client.disconnect();
  }
}
