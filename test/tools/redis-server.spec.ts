import { afterEach, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';

describe('RedisServer (the harness)', () => {
  const servers: RedisServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((server) => server.kill()));
  });

  // A test that kills "its" server must never kill or freeze someone else's by mistake.
  it('refuses a port another server already holds, though that one answers PING', async () => {
    const holder = await RedisServer.start();
    servers.push(holder);
    await expect(RedisServer.start({ port: holder.port })).rejects.toThrow(
      new RegExp(`redis-server on port ${holder.port} exited`),
    );
    expect(await holder.admin.ping()).toBe('PONG');
  });
});
