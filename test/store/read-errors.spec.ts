import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '#tools/free-port.js';
import { waitFor } from '#tools/wait.js';
import { Kettle, KettleStoreError, type KettleLogger } from '../../lib/core/index.js';
import { Harness } from '../support/apps.js';
import { uniquePrefix } from '../support/nodes.js';

const silent: KettleLogger = { log() {}, warn() {}, error() {}, debug() {} };
const h = new Harness();
afterEach(() => h.cleanup());

/** A started core node on `url` that contends for `job`. */
function node(url: string): Kettle {
  const kettle = new Kettle({
    redis: url,
    keyPrefix: uniquePrefix(),
    nodeId: 'reader',
    // Short, so that it notices Redis gone (steps down) in under a second.
    leaseTtl: 1000,
    logger: silent,
  });
  kettle.join('job', { interval: 100, allowShortInterval: true });
  kettle.start();
  h.defer(() => kettle.stop());
  return kettle;
}

describe('getMaster() when the store does not answer', () => {
  it('Redis gone: rejects with a KettleStoreError "not-connected" in kettle words, not the driver\'s', async () => {
    const server = await h.server();
    const kettle = node(server.url);
    await waitFor(() => kettle.isMaster('job'), 'master');
    expect(await kettle.getMaster('job')).toBe('reader');
    await server.kill();
    await waitFor(() => !kettle.isMaster('job'), 'the node to notice');
    const error = await kettle.getMaster('job').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KettleStoreError);
    expect(error).toMatchObject({
      name: 'KettleStoreError',
      reason: 'not-connected',
      message: expect.stringMatching(/^Kettle: getMaster\("job"\): Redis is not connected/),
    });
    expect((error as Error).message).not.toMatch(/enableOfflineQueue|Stream isn't writeable/);
  });

  it('Redis refusing from the start: "not-connected" with the cause, not a timeout', async () => {
    // Asked at once, before the first attempt has failed: the read must not wait it out.
    const kettle = node(`redis://127.0.0.1:${await freePort()}`);
    const error = await kettle.getMaster('job').catch((e: unknown) => e);
    expect(error).toMatchObject({
      reason: 'not-connected',
      message: expect.stringMatching(/Redis is not connected.*ECONNREFUSED/),
    });
  });

  it('Redis hung: rejects with reason "timeout" within its timeoutMs', async () => {
    const server = await h.server();
    const kettle = node(server.url);
    await waitFor(() => kettle.isMaster('job'), 'master');
    server.pause();
    h.defer(() => server.resume());
    const error = await kettle.getMaster('job', { timeoutMs: 200 }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      reason: 'timeout',
      message: 'Kettle: getMaster("job"): the store did not answer in time (200 ms)',
    });
  });

  it('timeoutMs is a Duration; a bad one, or a bad name, rejects, naming it', async () => {
    const kettle = new Kettle({ store: 'memory', logger: silent });
    h.defer(() => kettle.stop());
    expect(await kettle.getMaster('job', { timeoutMs: '2s' })).toBeNull();
    await kettle.ready({ timeoutMs: '1s' });
    // Rejected, not thrown: a caller that only attaches .catch hears of it.
    await expect(kettle.getMaster('job', { timeoutMs: 0 })).rejects.toThrow(
      /invalid option "getMaster timeoutMs": 0/,
    );
    await expect(kettle.getMaster('')).rejects.toThrow(/invalid option "name": ""/);
  });
});
