import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '#tools/wait.js';
import { Kettle, type KettleLogger, type MasterContext } from '../../lib/core/index.js';
import { fencedSet, LeadershipEndedError } from '../../lib/index.js';
import { uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

const silent: KettleLogger = { log() {}, warn() {}, error() {}, debug() {} };
/** Long enough that a run on a busy machine starts well inside it; the job spins twice this. */
const LEASE = 1000;

/** What a job saw around a synchronous stretch longer than its lease. */
interface Seen {
  onTime: boolean;
  validBefore: boolean;
  validAfter: boolean;
  abortedAfter: boolean;
  thrown: unknown;
  late: boolean;
}

describe('MasterContext.leaseValid(), throwIfLost() and fencedSet(context)', () => {
  const kettles: Kettle[] = [];
  const clients: Redis[] = [];
  afterEach(async () => {
    await Promise.all(kettles.splice(0).map((kettle) => kettle.stop()));
    for (const client of clients.splice(0)) client.disconnect();
  });

  it('reads the clock at the call: after a blocked stretch the lease is over before the signal aborts, and the late write is never sent', async () => {
    const keyPrefix = uniquePrefix();
    const resource = new Redis(SHARED_REDIS_URL);
    clients.push(resource);
    const key = `${keyPrefix}resource`;
    const kettle = new Kettle({
      redis: SHARED_REDIS_URL,
      keyPrefix,
      nodeId: 'a',
      interval: 100,
      allowShortInterval: true,
      leaseTtl: LEASE,
      logger: silent,
    });
    kettles.push(kettle);
    let seen: Seen | undefined;
    kettle.join('job', {
      run: async (context: MasterContext) => {
        if (seen) return;
        const onTime = await fencedSet(resource, key, 'on time', context);
        const validBefore = context.leaseValid();
        // Twice the lease without yielding: no timer of kettle's can run, as in a long
        // synchronous task, a GC pause or a frozen process.
        const end = performance.now() + 2 * LEASE;
        while (performance.now() < end);
        const validAfter = context.leaseValid();
        const abortedAfter = context.signal.aborted;
        let thrown: unknown;
        try {
          context.throwIfLost();
        } catch (error) {
          thrown = error;
        }
        const late = await fencedSet(resource, key, 'late', context);
        seen = { onTime, validBefore, validAfter, abortedAfter, thrown, late };
      },
    });
    kettle.start();
    const result = await waitFor(() => seen, 'the blocked run to report');
    expect(result).toEqual({
      onTime: true,
      validBefore: true,
      validAfter: false,
      abortedAfter: false,
      thrown: new LeadershipEndedError('expired'),
      late: false,
    });
    expect(await resource.hget(key, 'value')).toBe('on time');
    // The term form still goes to the resource, which refuses a term below the one it holds.
    const term = Number(await resource.hget(key, 'term'));
    expect(await fencedSet(resource, key, 'lower', term - 1)).toBe(false);
    expect(await resource.hgetall(key)).toEqual({ term: String(term), value: 'on time' });
  });

  it('fencedSet takes a term that is not a number (a bigint read back as text) as that number, and refuses one that is none', async () => {
    const resource = new Redis(SHARED_REDIS_URL);
    clients.push(resource);
    const key = `${uniquePrefix()}resource`;
    // From plain JavaScript, or through `any`: a Postgres bigint column comes back as a string.
    const asText: any = '1795662555010';
    expect(await fencedSet(resource, key, 'first', asText)).toBe(true);
    expect(await resource.hgetall(key)).toEqual({ term: '1795662555010', value: 'first' });
    const lowerAsText: any = '1795662555009';
    expect(await fencedSet(resource, key, 'stale', lowerAsText)).toBe(false);
    const notTerms: Array<[any, string]> = [
      ['12a', '"12a"'],
      [undefined, 'undefined'],
      [null, 'null'],
    ];
    for (const [notATerm, shown] of notTerms) {
      await expect(fencedSet(resource, key, 'bad', notATerm)).rejects.toThrow(
        `Kettle: fencedSet() expects a term (a number) or the MasterContext; got ${shown}.`,
      );
    }
    expect(await resource.hgetall(key)).toEqual({ term: '1795662555010', value: 'first' });
  });
});
