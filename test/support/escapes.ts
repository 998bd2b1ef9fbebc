import { afterAll, beforeAll } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';

/**
 * For one spec file: a redis-server of its own (the shared one is tidied by other test runs while
 * these measure), and what would reach the process from user code that throws: every unhandled
 * rejection and uncaught exception while the file runs.
 */
export function ownRedisCatchingEscapes(): { readonly server: RedisServer; escaped: unknown[] } {
  const escaped: unknown[] = [];
  const onEscaped = (error: unknown) => void escaped.push(error);
  let server: RedisServer | undefined;
  beforeAll(async () => {
    server = await RedisServer.start();
    process.on('unhandledRejection', onEscaped);
    process.on('uncaughtException', onEscaped);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onEscaped);
    process.off('uncaughtException', onEscaped);
    await server?.kill();
  });
  return {
    get server() {
      if (!server) throw new Error('the redis-server starts in beforeAll');
      return server;
    },
    escaped,
  };
}
