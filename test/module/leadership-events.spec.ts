import 'reflect-metadata';
import { Injectable, Module, Scope, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '#tools/wait.js';
import {
  KettleModule,
  type KettleModuleOptions,
  KettleService,
  type LeadershipChange,
  type MasterContext,
  OnElected,
  OnMaster,
  OnRevoked,
} from '../../lib/index.js';
import { CapturedLogs } from '../support/log-capture.js';
import { uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

const apps: INestApplicationContext[] = [];
const cleanups: Array<() => void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function boot(module: unknown, logger: CapturedLogs | false = false) {
  const app = await NestFactory.createApplicationContext(module as never, {
    logger,
    abortOnError: false,
  });
  apps.push(app);
  return { app, kettle: app.get(KettleService) };
}

const onRedis = (extra: KettleModuleOptions = {}): KettleModuleOptions => ({
  redis: SHARED_REDIS_URL,
  keyPrefix: uniquePrefix(),
  interval: 100,
  allowShortInterval: true,
  leaseTtl: 1000,
  ...extra,
});

/** A promise the test settles by hand, to hold a handler where the test wants it. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  cleanups.push(open); // never leave a handler hanging past its test
  return { opened, open };
}

describe('@OnElected and @OnRevoked', () => {
  it('start the first run of a leadership only after @OnElected returns, renewing the lease meanwhile', async () => {
    const events: string[] = [];
    const warmUp = gate();
    let elected: MasterContext | undefined;
    let revoked: LeadershipChange | undefined;
    @Injectable()
    class Feed {
      @OnElected('feed')
      async open(context: MasterContext) {
        elected = context;
        events.push('elected');
        await warmUp.opened;
        events.push('warm');
      }
      @OnMaster('feed')
      publish() {
        events.push('run');
      }
      @OnRevoked('feed')
      close(change: LeadershipChange) {
        revoked = change;
        events.push('revoked');
      }
    }
    // A renewal every second, and room for three before the bound (one lease) would start the jobs.
    @Module({ imports: [KettleModule.forRoot(onRedis({ leaseTtl: 3000 }))], providers: [Feed] })
    class AppModule {}
    const { kettle } = await boot(AppModule);

    await waitFor(() => elected, '@OnElected');
    expect(elected).toEqual({
      name: 'feed',
      nodeId: kettle.nodeId,
      term: kettle.term('feed'),
      scheduledAt: expect.any(Date),
      signal: expect.any(AbortSignal),
      leaseValid: expect.any(Function),
      throwIfLost: expect.any(Function),
    });
    await waitFor(() => kettle.stats('feed')!.renewLatency.count >= 1, 'a renewal');
    expect(events).toEqual(['elected']);
    expect(kettle.isMaster('feed')).toBe(true);

    warmUp.open();
    await waitFor(() => events.includes('run'), 'the first run');
    expect(events.slice(0, 3)).toEqual(['elected', 'warm', 'run']);

    const term = kettle.term('feed');
    await kettle.resign('feed');
    await waitFor(() => revoked, '@OnRevoked');
    expect(revoked).toEqual({
      name: 'feed',
      nodeId: kettle.nodeId,
      isMaster: false,
      term,
      reason: 'resigned',
    });
    expect(elected!.signal.aborted).toBe(true);
  });

  it('run @OnRevoked after the @OnElected of the same leadership returns, even when it ends first', async () => {
    const events: string[] = [];
    const slowStart = gate();
    let signal: AbortSignal | undefined;
    @Injectable()
    class Stream {
      @OnElected('stream')
      async open(context: MasterContext) {
        signal = context.signal;
        events.push('open:start');
        await slowStart.opened;
        events.push('open:end');
      }
      @OnRevoked('stream')
      close() {
        events.push('close');
      }
    }
    @Module({ imports: [KettleModule.forRoot(onRedis())], providers: [Stream] })
    class AppModule {}
    const { kettle } = await boot(AppModule);

    await waitFor(() => events.includes('open:start'), '@OnElected');
    await kettle.resign('stream');
    expect(signal!.aborted).toBe(true);
    expect(kettle.stats('stream')!.revoked).toBe(1);
    expect(events).toEqual(['open:start']);
    slowStart.open();
    await waitFor(() => events.includes('close'), '@OnRevoked');
    expect(events).toEqual(['open:start', 'open:end', 'close']);
  });

  it('log a failing handler with its election and method, and the loop goes on', async () => {
    let runs = 0;
    @Injectable()
    class Faulty {
      @OnElected('faulty')
      start() {
        throw new Error('cannot start');
      }
      @OnRevoked('faulty')
      async stop() {
        throw new Error('cannot stop');
      }
      @OnMaster('faulty')
      run() {
        runs++;
      }
    }
    const logs = new CapturedLogs();
    @Module({ imports: [KettleModule.forRoot(onRedis())], providers: [Faulty] })
    class AppModule {}
    const { kettle } = await boot(AppModule, logs);

    await waitFor(() => runs >= 2, 'runs after the failing @OnElected');
    expect(logs.text()).toMatch(
      /error Election "faulty": the @OnElected handler failed \(Faulty.start\): cannot start/,
    );
    await kettle.resign('faulty');
    await waitFor(() => /@OnRevoked handler failed/.test(logs.text()), 'the @OnRevoked failure');
    expect(logs.text()).toMatch(
      /error Election "faulty": the @OnRevoked handler failed \(Faulty.stop\): cannot stop/,
    );
    // Not stuck after either failure: it leads again once the hold-off after resigning ends.
    await waitFor(() => kettle.stats('faulty')!.elected >= 2, 'a second leadership');
    const before = runs;
    await waitFor(() => runs > before, 'runs in the second leadership');
  });

  it('join an election that has no @OnMaster, and hand it over with the handlers on both nodes', async () => {
    const prefix = uniquePrefix();
    const seen: Array<{ node: string; event: string; term: number; reason?: string }> = [];
    const nodes: Array<{ app: INestApplicationContext; kettle: KettleService }> = [];
    for (const nodeId of ['a', 'b']) {
      @Injectable()
      class Consumer {
        @OnElected('consumer')
        start({ term }: MasterContext) {
          seen.push({ node: nodeId, event: 'elected', term });
        }
        @OnRevoked('consumer')
        async stop({ term, reason }: LeadershipChange) {
          // Work that takes a while, such as closing a stream: app.close() waits for it.
          await new Promise((resolve) => setTimeout(resolve, 100));
          seen.push({ node: nodeId, event: 'revoked', term, reason });
        }
      }
      @Module({
        imports: [KettleModule.forRoot(onRedis({ keyPrefix: prefix, nodeId }))],
        providers: [Consumer],
      })
      class AppModule {}
      nodes.push(await boot(AppModule));
    }
    const leader = await waitFor(
      () => nodes.find((node) => node.kettle.isMaster('consumer')),
      'a master',
    );
    const other = nodes.find((node) => node !== leader)!;
    expect(leader.kettle.names()).toEqual(['consumer']);
    expect(await other.kettle.getMaster('consumer')).toBe(leader.kettle.nodeId);
    expect(leader.kettle.stats('consumer')).toMatchObject({ elected: 1, runs: 0 });
    const firstTerm = leader.kettle.term('consumer')!;

    await leader.app.close();
    apps.splice(apps.indexOf(leader.app), 1);
    expect(seen).toContainEqual({
      node: leader.kettle.nodeId,
      event: 'revoked',
      term: firstTerm,
      reason: 'shutdown',
    });
    await waitFor(() => other.kettle.isMaster('consumer'), 'the other node to take over');
    const taken = seen.find((event) => event.node === other.kettle.nodeId)!;
    expect(taken).toEqual({
      node: other.kettle.nodeId,
      event: 'elected',
      term: other.kettle.term('consumer'),
    });
    expect(taken.term).toBeGreaterThan(firstTerm);
  });

  it('fail at bootstrap on a bad name, and skip request-scoped providers with a warning', async () => {
    @Injectable()
    class BadName {
      @OnElected('')
      start() {}
    }
    @Module({ imports: [KettleModule.forRoot({ store: 'memory' })], providers: [BadName] })
    class BadNameModule {}
    await expect(boot(BadNameModule)).rejects.toThrow(
      /invalid election name "" in @OnElected\(\) on BadName.start; expected a non-empty string/,
    );

    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      @OnRevoked('scoped')
      stop() {}
    }
    const logs = new CapturedLogs();
    @Module({ imports: [KettleModule.forRoot({ store: 'memory' })], providers: [PerRequest] })
    class ScopedModule {}
    const { kettle } = await boot(ScopedModule, logs);
    expect(logs.text()).toMatch(
      /Cannot use @OnRevoked\(\) on "PerRequest.stop" because "PerRequest" is request-scoped/,
    );
    expect(kettle.names()).toEqual([]);
  });
});
