import type { Provider } from '@nestjs/common';
import { Redlock, ResourceLockedError } from '@sesamecare-oss/redlock';
import { Redis, type RedisOptions } from 'ioredis';
import { env } from './env.js';
import { reporter } from './reporter.js';

/** An ioredis client on the bench Redis; an unheard 'error' event would crash the node. */
export function redisClient(options: RedisOptions = {}): Redis {
  const client = new Redis(env.redisUrl, options);
  client.on('error', (error: Error) => reporter.error(`redis: ${error.message}`));
  return client;
}

/** The node's Redis client, and Redlock on it, as the redlock nodes use them. */
export const redlockProviders: Provider[] = [
  { provide: Redis, useFactory: () => redisClient() },
  {
    provide: Redlock,
    inject: [Redis],
    useFactory: (redis: Redis) => {
      // A failed attempt is the common case here: a try, not a wait.
      const redlock = new Redlock([redis], { retryCount: 0 });
      // As the README says: without a listener, every "already locked" would be an unheard 'error'.
      redlock.on('error', (error: unknown) => {
        if (!(error instanceof ResourceLockedError)) reporter.error(String(error));
      });
      return redlock;
    },
  },
];
