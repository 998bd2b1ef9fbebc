import 'reflect-metadata';
import { type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '#tools/wait.js';
import {
  Kettle,
  KettleModule,
  KettleService,
  type KettleLogger,
  type LeadershipChange,
} from '../../lib/index.js';
import { uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

/** leadership$ tells a subscriber the current role in each election first, then every change. */

const silent: KettleLogger = { log() {}, warn() {}, error() {}, debug() {} };
const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function node(keyPrefix: string, nodeId: string): Promise<KettleService> {
  @Module({
    imports: [KettleModule.forRoot({ redis: SHARED_REDIS_URL, keyPrefix, nodeId, leaseTtl: 1000 })],
  })
  class AppModule {}
  const app: INestApplicationContext = await NestFactory.createApplicationContext(AppModule, {
    logger: false,
    abortOnError: false,
  });
  cleanups.push(() => app.close());
  return app.get(KettleService);
}

describe('leadership$', () => {
  it('tells a late subscriber the current role of each election at once, then the changes', async () => {
    const keyPrefix = uniquePrefix();
    const other = new Kettle({
      redis: SHARED_REDIS_URL,
      keyPrefix,
      nodeId: 'other',
      leaseTtl: 1000,
      logger: silent,
    });
    cleanups.push(() => other.stop());
    other.join('elsewhere');
    other.start();
    await waitFor(() => other.isMaster('elsewhere'), 'the other node to lead "elsewhere"');

    const kettle = await node(keyPrefix, 'me');
    kettle.join('mine');
    kettle.join('elsewhere');
    await waitFor(() => kettle.isMaster('mine'), 'this node to lead "mine"');
    const term = kettle.term('mine')!;
    const current = [
      { name: 'mine', nodeId: 'me', isMaster: true, term },
      { name: 'elsewhere', nodeId: 'me', isMaster: false, term: 0 },
    ];

    const first: LeadershipChange[] = [];
    kettle.leadership$.subscribe((change) => first.push(change));
    expect(first).toEqual(current);
    const second: LeadershipChange[] = [];
    const subscription = kettle.leadership$.subscribe((change) => second.push(change));
    expect(second).toEqual(current);
    cleanups.push(async () => subscription.unsubscribe());

    await kettle.resign('mine');
    const resigned = { name: 'mine', nodeId: 'me', isMaster: false, term, reason: 'resigned' };
    expect(first).toEqual([...current, resigned]);
    expect(second).toEqual([...current, resigned]);
    // A follower's current role has the term it last held, and no reason: no step-down happened.
    const third: LeadershipChange[] = [];
    kettle.leadership$.subscribe((change) => third.push(change));
    expect(third).toEqual([
      { name: 'mine', nodeId: 'me', isMaster: false, term },
      { name: 'elsewhere', nodeId: 'me', isMaster: false, term: 0 },
    ]);
  });

  it('a subscriber that arrives while a change is told gets it once, in the current roles', async () => {
    const kettle = await node(uniquePrefix(), 'me');
    const late: LeadershipChange[] = [];
    let arrived = false;
    kettle.leadership$.subscribe((change) => {
      if (!change.isMaster || arrived) return;
      arrived = true;
      kettle.leadership$.subscribe((seen) => late.push(seen));
    });
    kettle.join('arriving');
    await waitFor(() => arrived, 'the first leadership');
    const term = kettle.term('arriving')!;
    expect(late).toEqual([{ name: 'arriving', nodeId: 'me', isMaster: true, term }]);
  });

  it('completes at once, telling nothing, once the application has shut down', async () => {
    const kettle = await node(uniquePrefix(), 'me');
    kettle.join('closing');
    await cleanups.pop()!();
    const seen: unknown[] = [];
    let completed = false;
    kettle.leadership$.subscribe({ next: (c) => seen.push(c), complete: () => (completed = true) });
    expect(seen).toEqual([]);
    expect(completed).toBe(true);
  });
});
