import 'reflect-metadata';
import { Injectable, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Interval, ScheduleModule } from '@nestjs/schedule';
import { config as rxjsConfig } from 'rxjs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { waitFor } from '#tools/wait.js';
import { Kettle, type KettleLogger } from '../../lib/core/index.js';
import {
  KettleModule,
  KettleService,
  OnElected,
  OnMaster,
  OnRevoked,
  type KettleModuleOptions,
} from '../../lib/index.js';
import { uniquePrefix } from '../support/nodes.js';
import { ownRedisCatchingEscapes } from '../support/escapes.js';
import { captureKettleStderr } from '../support/log-capture.js';

const LEASE = 3000;
const silent: KettleLogger = { log() {}, warn() {}, error() {}, debug() {} };

const own = ownRedisCatchingEscapes();
const { escaped } = own;

describe('user code that throws never stalls an election', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    expect(escaped.splice(0)).toEqual([]);
  });

  it('a leadership listener that throws is logged and counted: the master runs, resign() and stop() release', async () => {
    const prefix = uniquePrefix();
    const runs: string[] = [];
    const errors: string[] = [];
    const heard: string[] = [];
    const node = (nodeId: string) => {
      const kettle = new Kettle({
        redis: own.server.url,
        keyPrefix: prefix,
        nodeId,
        interval: 100,
        allowShortInterval: true,
        leaseTtl: LEASE,
        logger: { ...silent, error: (message) => void errors.push(message) },
      });
      kettle.join('job', { run: () => void runs.push(nodeId) });
      kettle.onChange(() => {
        throw new Error(`listener of ${nodeId} failed`);
      });
      // A listener after the failing one still hears every change.
      kettle.onChange(({ isMaster }) => void heard.push(`${nodeId}:${isMaster}`));
      cleanups.push(() => kettle.stop());
      kettle.start();
      return kettle;
    };
    const a = node('a');
    await waitFor(() => runs.includes('a'), 'a run on the first master');
    expect(a.isMaster('job')).toBe(true);
    expect(a.stats('job')!.callbackErrors).toBe(1);
    expect(errors).toContain('Election "job": a leadership listener failed: listener of a failed');

    const b = node('b');
    // resign() releases the lease: b takes over well before the lease would have ended.
    const resignedAt = performance.now();
    await a.resign('job');
    await waitFor(() => b.isMaster('job'), 'b to take over', LEASE);
    expect(performance.now() - resignedAt).toBeLessThan(LEASE / 2);
    await waitFor(() => runs.includes('b'), 'a run on b');
    expect(a.stats('job')!.callbackErrors).toBe(2);

    // stop() steps down, releases and resolves.
    await b.stop();
    expect(b.isMaster('job')).toBe(false);
    expect(await a.getMaster('job')).not.toBe('b');
    expect(b.stats('job')).toBeUndefined(); // left, after the release
    expect(heard).toEqual(expect.arrayContaining(['a:true', 'a:false', 'b:true', 'b:false']));
  });

  it('a logger whose every method throws: the election, its jobs, hooks and guarded methods go on; each line goes to stderr instead', async () => {
    const stderr = captureKettleStderr(cleanups);
    const broken = new Error('logger down');
    const logger: KettleLogger = {
      log: () => {
        throw broken;
      },
      warn: () => {
        throw broken;
      },
      error: () => {
        throw broken;
      },
      debug: () => {
        throw broken;
      },
    };
    const events: string[] = [];
    @Injectable()
    class Faulty {
      @OnElected('faulty')
      elected() {
        events.push('elected');
        throw new Error('cannot start');
      }
      @OnMaster('faulty')
      run() {
        events.push('run');
        throw new Error('job failed');
      }
      @Interval(50)
      @OnMaster('scheduled', { leaseTtl: LEASE })
      scheduled() {
        events.push('scheduled');
        throw new Error('scheduled failed');
      }
      @OnRevoked('faulty')
      revoked() {
        events.push('revoked');
        throw new Error('cannot stop');
      }
    }
    const options: KettleModuleOptions = {
      redis: own.server.url,
      keyPrefix: uniquePrefix(),
      interval: 100,
      allowShortInterval: true,
      leaseTtl: LEASE,
      verbose: true,
      logger,
    };
    @Module({
      imports: [ScheduleModule.forRoot(), KettleModule.forRoot(options)],
      providers: [Faulty],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const kettle = app.get(KettleService);
    await waitFor(
      () => events.filter((e) => e === 'run').length >= 3,
      'three runs despite the logger',
    );
    await waitFor(
      () => events.filter((e) => e === 'scheduled').length >= 3,
      'three guarded runs despite the logger',
    );
    expect(kettle.stats('faulty')).toMatchObject({ elected: 1, revoked: 0 });
    expect(kettle.stats('faulty')!.failedRuns).toBeGreaterThanOrEqual(3);
    expect(kettle.stats('scheduled')!.failedRuns).toBeGreaterThanOrEqual(3);
    // The @OnElected failure, then each line the logger refused (the announcement, each failed run).
    expect(kettle.stats('faulty')!.callbackErrors).toBeGreaterThanOrEqual(5);
    expect(stderr.join('')).toMatch(
      /\[Kettle\] the logger's error\(\) threw \(logger down\); the line was: Election "faulty": the master job failed \(Faulty.run\): job failed/,
    );
    expect(stderr.join('')).toMatch(
      /the line was: Election "scheduled": the scheduled master method failed \(Faulty.scheduled\): scheduled failed/,
    );

    await expect(app.close()).resolves.toBeUndefined();
    expect(events).toContain('revoked');
    expect(kettle.isMaster('faulty')).toBe(false);
    expect(stderr.join('')).toMatch(
      /the @OnRevoked handler failed \(Faulty.revoked\): cannot stop/,
    );
  });

  it('an async listener and an async logger that reject are counted like throwing ones: no unhandled rejection', async () => {
    const stderr = captureKettleStderr(cleanups);
    const rejects = async () => {
      await Promise.resolve();
      throw new Error('async logger down');
    };
    const logger = { log: rejects, warn: rejects, error: rejects, debug: rejects };
    const runs: string[] = [];
    const kettle = new Kettle({
      redis: own.server.url,
      keyPrefix: uniquePrefix(),
      interval: 100,
      allowShortInterval: true,
      leaseTtl: LEASE,
      logger,
    });
    cleanups.push(() => kettle.stop());
    kettle.join('job', { run: () => void runs.push('run') });
    kettle.onChange(async () => {
      await Promise.resolve();
      throw new Error('async listener failed');
    });
    kettle.start();
    await waitFor(() => runs.length >= 2, 'runs');
    // The listener's rejection, and the logger's for the error line that reports it.
    await waitFor(() => kettle.stats('job')!.callbackErrors >= 2, 'both failures counted');
    expect(stderr.join('')).toMatch(
      /the line was: Election "job": a leadership listener failed: async listener failed/,
    );
    await kettle.resign('job');
    await waitFor(() => kettle.stats('job')!.callbackErrors >= 4, 'the next two counted');
    expect(escaped).toEqual([]);
  });

  describe('a leadership$ subscriber that throws', () => {
    const apps: INestApplicationContext[] = [];
    afterEach(async () => {
      await Promise.all(apps.splice(0).map((app) => app.close()));
      rxjsConfig.onUnhandledError = null;
      rxjsConfig.useDeprecatedSynchronousErrorHandling = false;
    });

    async function node(runs: { count: number }) {
      @Injectable()
      class Job {
        @OnMaster('job')
        run() {
          runs.count++;
        }
      }
      const options = {
        redis: own.server.url,
        keyPrefix: uniquePrefix(),
        interval: 100,
        allowShortInterval: true,
      };
      @Module({ imports: [KettleModule.forRoot(options)], providers: [Job] })
      class AppModule {}
      const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
      apps.push(app);
      const kettle = app.get(KettleService);
      // The current role, told during subscribe, passes; the changes after it throw.
      let subscribed = false;
      kettle.leadership$.subscribe(() => {
        if (subscribed) throw new Error('subscriber failed');
      });
      subscribed = true;
      return { app, kettle };
    }

    it("is rxjs's to report (asynchronously): nothing of it reaches the election", async () => {
      const reported: unknown[] = [];
      rxjsConfig.onUnhandledError = (error) => void reported.push(error);
      const runs = { count: 0 };
      const { kettle } = await node(runs);
      await waitFor(() => runs.count >= 2, 'runs');
      await waitFor(() => reported.length === 1, "rxjs's report");
      expect(String(reported[0])).toMatch(/subscriber failed/);
      expect(kettle.stats('job')!.callbackErrors).toBe(0);
    });

    it("with rxjs's synchronous error handling, it reaches the listener kettle registered, which catches and counts it", async () => {
      vi.spyOn(console, 'warn').mockImplementationOnce(() => undefined); // rxjs's deprecation notice
      rxjsConfig.useDeprecatedSynchronousErrorHandling = true;
      const runs = { count: 0 };
      const { app, kettle } = await node(runs);
      await waitFor(() => runs.count >= 2, 'runs');
      expect(kettle.stats('job')!.callbackErrors).toBe(1);
      await expect(app.close()).resolves.toBeUndefined();
      apps.splice(apps.indexOf(app), 1);
      expect(kettle.isMaster('job')).toBe(false);
    });
  });
});
