import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { fencedGet, fencedSet } from '../../lib/core/index.js';
import { uniquePrefix } from '../support/nodes.js';

describe('fencedSet and fencedGet', () => {
  // A private server: its command counts are this file's alone.
  let server: RedisServer;
  let client: Redis;
  beforeAll(async () => {
    server = await RedisServer.start();
    client = new Redis(server.redisOptions);
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.kill();
  });

  it('reads back what was written, with its term, and null where nothing was', async () => {
    const key = `${uniquePrefix()}resource`;
    expect(await fencedGet(client, key)).toBeNull();
    const term = 1_795_662_555_010;
    expect(await fencedSet(client, key, 'first', term)).toBe(true);
    expect(await fencedGet(client, key)).toEqual({ term, value: 'first' });
    expect(await fencedSet(client, key, 'second', term + 1)).toBe(true);
    expect(await fencedGet(client, key)).toEqual({ term: term + 1, value: 'second' });
    // The layout the docs show: a hash, which a plain GET cannot read.
    expect(await client.hgetall(key)).toEqual({ term: String(term + 1), value: 'second' });
    await expect(client.get(key)).rejects.toThrow(/WRONGTYPE/);
  });

  it('keeps the newer write when a stale term comes after it', async () => {
    const key = `${uniquePrefix()}resource`;
    expect(await fencedSet(client, key, 'newer', 1_795_662_555_011)).toBe(true);
    expect(await fencedSet(client, key, 'stale', 1_795_662_555_010)).toBe(false);
    expect(await fencedGet(client, key)).toEqual({ term: 1_795_662_555_011, value: 'newer' });
  });

  it('sends the script in full once, then by its SHA1, and again in full after a SCRIPT FLUSH', async () => {
    const key = `${uniquePrefix()}resource`;
    await client.script('FLUSH');
    const evalBefore = await server.commandCalls('eval');
    const evalshaBefore = await server.commandCalls('evalsha');
    for (let term = 1; term <= 10; term++) await fencedSet(client, key, `v${term}`, term);
    expect(await server.commandCalls('eval')).toBe(evalBefore + 1);
    expect(await server.commandCalls('evalsha')).toBe(evalshaBefore + 10);

    await client.script('FLUSH');
    expect(await fencedSet(client, key, 'after flush', 11)).toBe(true);
    expect(await fencedSet(client, key, 'cached again', 12)).toBe(true);
    expect(await server.commandCalls('eval')).toBe(evalBefore + 2);
    expect(await fencedGet(client, key)).toEqual({ term: 12, value: 'cached again' });
  });

  it('passes on an error other than a missing script', async () => {
    const key = `${uniquePrefix()}resource`;
    await client.set(key, 'a string');
    await expect(fencedSet(client, key, 'v', 1)).rejects.toThrow(/WRONGTYPE/);
    await expect(fencedGet(client, key)).rejects.toThrow(/WRONGTYPE/);
  });
});
