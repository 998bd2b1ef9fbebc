import { Redis, type RedisOptions } from 'ioredis';
import { env } from './env.js';
import { reporter } from './reporter.js';

/** An ioredis client on the bench Redis; an unheard 'error' event would crash the node. */
export function redisClient(options: RedisOptions = {}): Redis {
  const client = new Redis(env.redisUrl, options);
  client.on('error', (error: Error) => reporter.error(`redis: ${error.message}`));
  return client;
}
