import 'reflect-metadata';
import {
  type BeforeApplicationShutdown,
  Injectable,
  Module,
  type OnModuleDestroy,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { TcpProxy } from '#tools/tcp-proxy.js';
import { sleep, waitFor } from '#tools/wait.js';
import { Kettle, type KettleLogger, type MasterContext } from '../../lib/core/index.js';
import { KettleModule, KettleService, OnMaster, OnRevoked } from '../../lib/index.js';
import { isChange, uniquePrefix } from '../support/nodes.js';
import { ownRedisCatchingEscapes } from '../support/escapes.js';

const silent: KettleLogger = { log() {}, warn() {}, error() {}, debug() {} };

const own = ownRedisCatchingEscapes();
const { escaped } = own;

/** A promise the test settles by hand; opened at cleanup at the latest. */
function gate(cleanups: Array<() => unknown>) {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  cleanups.push(open);
  return { opened, open };
}

describe('shutdown and resign keep their promises', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    expect(escaped.splice(0)).toEqual([]);
  });

  function kettle(options: ConstructorParameters<typeof Kettle>[0]): Kettle {
    const node = new Kettle({ logger: silent, ...options });
    cleanups.push(() => node.stop());
    return node;
  }

  it('resign() resolves only once the lease was released: called again from the abort, or during a stop', async () => {
    const prefix = uniquePrefix();
    const redis = new Redis(own.server.url);
    cleanups.push(() => redis.disconnect());
    const proxy = await TcpProxy.start(own.server.port);
    cleanups.push(() => proxy.close());
    const lockKey = `${prefix}{job}:lock`;
    const node = (nodeId: string, onAbort: (k: Kettle) => void) => {
      const k = kettle({
        redis: proxy.url,
        keyPrefix: prefix,
        nodeId,
        interval: 100,
        allowShortInterval: true,
        leaseTtl: 3000,
      });
      k.join('job', {
        run: async ({ signal }: MasterContext) => {
          signal.addEventListener('abort', () => onAbort(k));
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
        },
      });
      k.start();
      return k;
    };
    const running = (k: Kettle) => waitFor(() => k.stats('job')!.runs > 0, 'a run');

    // The job's abort listener sees a node that starts no run (a guarded method's, here), and a
    // resign() from it is the hand-over under way.
    let again: Promise<void> | undefined;
    let startedInAbort: unknown;
    const a = node('a', (k) => {
      startedInAbort = k.electionOf('job')!.startScheduledRun(async () => {});
      again = k.resign('job');
    });
    await running(a);
    proxy.delayMs = 200; // a release takes 400 ms to be answered
    const first = a.resign('job');
    await again;
    expect(await redis.get(lockKey)).toBeNull();
    await first;
    expect(startedInAbort).toBeUndefined();
    expect(a.stats('job')!.revoked).toBe(1);
    proxy.delayMs = 0;
    await a.stop();

    // A resign() while stop() drains resolves with the stop's release.
    const b = node('b', () => {});
    await running(b);
    proxy.delayMs = 200;
    const stopping = b.stop();
    await b.resign('job');
    expect(await redis.get(lockKey)).toBeNull();
    await stopping;
  });

  it('stops starting runs at onModuleDestroy: none runs after a provider closed its client', async () => {
    const events: string[] = [];
    @Injectable()
    class Client implements OnModuleDestroy, BeforeApplicationShutdown {
      closed = false;
      // A run has just started: the next claim is an interval away.
      nextRun?: () => void;
      async onModuleDestroy() {
        await new Promise<void>((resolve) => (this.nextRun = resolve));
        this.closed = true;
        events.push('closed');
      }
      // E.g. waiting for the load balancer to take the pod out: runs would go on meanwhile.
      async beforeApplicationShutdown() {
        await sleep(500);
      }
    }
    @Injectable()
    class Job {
      constructor(private readonly client: Client) {}
      @OnMaster('job', { interval: 50, allowShortInterval: true })
      run() {
        events.push(this.client.closed ? 'run on a closed client' : 'run');
        this.client.nextRun?.();
      }
    }
    const options = { redis: own.server.url, keyPrefix: uniquePrefix(), leaseTtl: 1500 };
    @Module({ imports: [KettleModule.forRoot(options)], providers: [Client, Job] })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const kettle = app.get(KettleService);
    kettle.leadership$.subscribe(
      (change) => isChange(change) && events.push(change.isMaster ? 'elected' : 'revoked'),
    );
    await waitFor(() => events.filter((e) => e === 'run').length >= 2, 'runs');
    await app.close();
    expect(events).toContain('closed');
    expect(events.slice(events.indexOf('closed'))).toEqual(['closed', 'revoked']);
  });

  it("the app's own beforeApplicationShutdown waits neither eat the drain nor keep the lease: the next node runs right after the job ended", async () => {
    const SHUTDOWN = 1000;
    const APP_WAIT = 1200; // the app's own wait (a graceful HTTP drain, the load balancer): past SHUTDOWN
    const WIND_DOWN = 150; // what the job takes to end once its signal aborted
    const prefix = uniquePrefix();
    const runs: Array<{ node: string; start: number; end?: number }> = [];
    const warnings: string[] = [];
    let appWaitEnded: number | undefined;
    const node = async (nodeId: string) => {
      @Injectable()
      class Job {
        @OnMaster('job', { interval: 100, allowShortInterval: true })
        async run({ signal }: MasterContext) {
          const run: (typeof runs)[number] = { node: nodeId, start: performance.now() };
          runs.push(run);
          await new Promise((resolve) => signal.addEventListener('abort', resolve));
          await sleep(WIND_DOWN);
          run.end = performance.now();
        }
      }
      @Injectable()
      class GracefulWait implements BeforeApplicationShutdown {
        async beforeApplicationShutdown() {
          await sleep(APP_WAIT);
          if (nodeId === 'a') appWaitEnded = performance.now();
        }
      }
      const logger = { ...silent, warn: (message: string) => void warnings.push(message) };
      const options = { redis: own.server.url, keyPrefix: prefix, nodeId, leaseTtl: 3000, logger };
      @Module({
        imports: [KettleModule.forRoot({ ...options, shutdownTimeout: SHUTDOWN })],
        providers: [Job, GracefulWait],
      })
      class AppModule {}
      const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
      cleanups.push(() => app.close());
      return app;
    };
    const a = await node('a');
    const first = await waitFor(() => runs.find((r) => r.node === 'a'), 'a run on a');
    await node('b');
    await a.close();
    const next = await waitFor(() => runs.find((r) => r.node === 'b'), 'a run on b', 5000);
    if (process.env.SHUTDOWN_DEBUG)
      console.log('from the end of the run on a to the first on b, ms:', next.start - first.end!);
    expect(first.end).toBeDefined();
    expect(next.start).toBeGreaterThanOrEqual(first.end!); // no overlap
    expect(next.start).toBeLessThan(appWaitEnded!); // b took over while a's app still waited
    expect(warnings).toEqual([]); // the job ended in time, the release was answered
  });

  it('app.close() ends within shutdownTimeout, whatever it waits for, on a frozen Redis', async () => {
    const SHUTDOWN = 1000;
    const frozen = await RedisServer.start();
    cleanups.push(() => frozen.kill());
    const prefix = uniquePrefix();
    const running: string[] = [];
    const node = async (nodeId: string) => {
      const hung = gate(cleanups);
      @Injectable()
      class Stuck {
        // Runs far longer than the shutdown allows, and does not watch its signal.
        @OnMaster('job')
        async run() {
          running.push(nodeId);
          await hung.opened;
        }
        @OnRevoked('job')
        async revoked() {
          await hung.opened;
        }
      }
      const options = {
        redis: frozen.url,
        keyPrefix: prefix,
        nodeId,
        interval: 100,
        allowShortInterval: true,
        leaseTtl: 3000,
        shutdownTimeout: SHUTDOWN,
      };
      @Module({ imports: [KettleModule.forRoot(options)], providers: [Stuck] })
      class AppModule {}
      const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
      return app;
    };
    const apps = [await node('a'), await node('b')];
    await waitFor(() => running.length > 0, 'a run on the master');
    frozen.pause();
    cleanups.push(() => frozen.resume());
    const closing = apps.map(async (app) => {
      const start = performance.now();
      await app.close();
      return performance.now() - start;
    });
    const took = await Promise.all(closing);
    if (process.env.SHUTDOWN_DEBUG) console.log('app.close() on a frozen Redis, ms:', took);
    for (const ms of took) expect(ms).toBeLessThan(SHUTDOWN + 300);
  });

  it('a process whose SIGTERM calls kettle.stop() exits by itself on a frozen Redis, with an acquire on its way', async () => {
    const frozen = await RedisServer.start();
    cleanups.push(() => frozen.kill());
    const redis = new Redis(frozen.url);
    cleanups.push(() => redis.disconnect());
    const prefix = uniquePrefix();
    const lockKey = `${prefix}{job}:lock`;
    // Another node's lease: the child follows, and tries again just after it ends.
    await redis.set(lockKey, 'other#0', 'PX', 1500);
    // A long lease: the acquire's timeout and the retry after it are 10 s.
    // nestjs-kettle resolves to this checkout's dist: `npm run build` first.
    const program = `
      import { Kettle } from 'nestjs-kettle/core';
      const silent = { log() {}, warn() {}, error() {}, debug() {} };
      const kettle = new Kettle({ redis: ${JSON.stringify(frozen.url)},
        keyPrefix: ${JSON.stringify(prefix)}, nodeId: 'child', interval: 100, allowShortInterval: true, leaseTtl: 30000,
        shutdownTimeout: 1000, logger: silent });
      kettle.join('job', { run() {} });
      kettle.start();
      process.once('SIGTERM', () => kettle.stop());
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', program], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const exited = once(child, 'exit');
    cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
    await waitFor(
      async () => String(await redis.client('LIST')).includes('name=kettle:child'),
      'the child to connect',
    );
    // Freeze just before the other lease ends: the child's next acquire gets no answer.
    const left = await redis.pttl(lockKey);
    await sleep(Math.max(0, left - 50));
    frozen.pause();
    cleanups.push(() => frozen.resume());
    await sleep(200);
    const start = performance.now();
    child.kill('SIGTERM');
    // Generous: the stop takes its shutdownTimeout of 1000 ms, then nothing should hold the process.
    const ended = await Promise.race([exited.then(() => true), sleep(6000).then(() => false)]);
    if (process.env.SHUTDOWN_DEBUG)
      console.log('exit after SIGTERM, ms:', performance.now() - start);
    expect(ended).toBe(true);
  });
});
