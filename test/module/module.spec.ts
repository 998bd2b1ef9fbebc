import 'reflect-metadata';
import { Injectable, Module, Scope, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Interval, ScheduleModule } from '@nestjs/schedule';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { waitFor } from '#tools/wait.js';
import {
  Kettle,
  KettleModule,
  type KettleModuleOptions,
  type KettleOptionsFactory,
  KettleService,
  type KettleStore,
  MemoryStore,
  type MasterContext,
  OnMaster,
} from '../../lib/index.js';
import { CapturedLogs } from '../support/log-capture.js';
import { uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

const apps: INestApplicationContext[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

async function boot(
  module: unknown,
  logger: CapturedLogs | false = false,
): Promise<INestApplicationContext> {
  const app = await NestFactory.createApplicationContext(module as never, {
    logger,
    abortOnError: false,
  });
  apps.push(app);
  return app;
}

const fast = (extra: KettleModuleOptions = {}): KettleModuleOptions => ({
  redis: SHARED_REDIS_URL,
  keyPrefix: uniquePrefix(),
  interval: 100,
  allowShortInterval: true,
  leaseTtl: 1000,
  ...extra,
});

describe('KettleModule', () => {
  it('takes its options from forRootAsync with useFactory, useClass and useExisting', async () => {
    const CONFIG = 'CONFIG';
    @Module({
      providers: [{ provide: CONFIG, useValue: { nodeId: 'from-factory' } }],
      exports: [CONFIG],
    })
    class ConfigModule {}
    @Module({
      imports: [
        KettleModule.forRootAsync({
          imports: [ConfigModule],
          inject: [CONFIG],
          useFactory: async (config: { nodeId: string }) => ({
            store: 'memory',
            nodeId: config.nodeId,
          }),
        }),
      ],
    })
    class FactoryModule {}
    expect((await boot(FactoryModule)).get(KettleService).nodeId).toBe('from-factory');

    @Injectable()
    class KettleConfig implements KettleOptionsFactory {
      createKettleOptions(): KettleModuleOptions {
        return { store: 'memory', nodeId: 'from-class' };
      }
    }
    @Module({ imports: [KettleModule.forRootAsync({ useClass: KettleConfig })] })
    class ClassModule {}
    expect((await boot(ClassModule)).get(KettleService).nodeId).toBe('from-class');

    @Module({ providers: [KettleConfig], exports: [KettleConfig] })
    class SharedConfigModule {}
    @Module({
      imports: [
        KettleModule.forRootAsync({ imports: [SharedConfigModule], useExisting: KettleConfig }),
      ],
    })
    class ExistingModule {}
    expect((await boot(ExistingModule)).get(KettleService).nodeId).toBe('from-class');
  });

  it('injects the core Kettle as the same instance as KettleService, started and stopped once', async () => {
    const redis = new Redis(SHARED_REDIS_URL);
    const options = fast({ nodeId: 'one-instance' });
    @Injectable()
    class Status {
      constructor(
        readonly kettle: Kettle,
        readonly service: KettleService,
      ) {}
      @OnMaster('job')
      run() {}
    }
    @Module({ imports: [KettleModule.forRoot(options)], providers: [Status] })
    class AppModule {}
    const app = await boot(AppModule);
    const status = app.get(Status);
    expect(status.kettle).toBe(status.service);
    expect(app.get(Kettle)).toBe(app.get(KettleService));
    await waitFor(() => status.kettle.isMaster('job'), 'master');
    const clients = async () =>
      String(await redis.client('LIST'))
        .split('\n')
        .filter((line) => / name=kettle(-sub)?:one-instance /.test(line)).length;
    // One command connection and one subscriber: a second Kettle would open its own.
    expect(await clients()).toBe(2);
    expect(status.kettle.stats('job')).toMatchObject({ elected: 1 });
    await app.close();
    apps.splice(apps.indexOf(app), 1);
    expect(await redis.get(`${options.keyPrefix}{job}:lock`)).toBeNull();
    await waitFor(async () => (await clients()) === 0, 'kettle to disconnect');
    redis.disconnect();
  });

  it('runs every method of one name on one lease, logs a failing job with its election and goes on', async () => {
    const calls: string[] = [];
    @Injectable()
    class Jobs {
      @OnMaster('reports')
      good(context: MasterContext) {
        calls.push(`good:${context.name}:${context.term}`);
      }
      @OnMaster('reports')
      async bad() {
        calls.push('bad');
        throw new Error('boom');
      }
    }
    const logs = new CapturedLogs();
    @Module({ imports: [KettleModule.forRoot(fast())], providers: [Jobs] })
    class AppModule {}
    const kettle = (await boot(AppModule, logs)).get(KettleService);
    await waitFor(
      () => calls.filter((c) => c === 'bad').length >= 3,
      'three runs of the failing job',
    );
    const term = kettle.term('reports');
    expect(
      calls.filter((c) => c.startsWith('good:')).every((c) => c === `good:reports:${term}`),
    ).toBe(true);
    expect(logs.text()).toMatch(
      /error Election "reports": the master job failed \(Jobs.bad\): boom/,
    );
    expect(kettle.stats('reports')).toMatchObject({ elected: 1, failedRuns: expect.any(Number) });
    expect(kettle.stats('reports')!.failedRuns).toBeGreaterThanOrEqual(3);
    expect(kettle.names()).toEqual(['reports']);
  });

  it('runs a job once per run when a useExisting alias names its provider again', async () => {
    let calls = 0;
    @Injectable()
    class Jobs {
      @OnMaster('aliased')
      sweep() {
        calls++;
      }
    }
    @Module({
      imports: [KettleModule.forRoot(fast())],
      providers: [Jobs, { provide: 'JOBS_ALIAS', useExisting: Jobs }],
    })
    class AppModule {}
    const kettle = (await boot(AppModule)).get(KettleService);
    await waitFor(() => kettle.stats('aliased')!.runs >= 3, 'three runs');
    // Each run calls each job once: an alias is the same job, not a second one.
    expect(calls).toBe(kettle.stats('aliased')!.runs);
  });

  it('skips request-scoped providers with a warning', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      @OnMaster('scoped')
      run() {}
    }
    const logs = new CapturedLogs();
    @Module({ imports: [KettleModule.forRoot({ store: 'memory' })], providers: [PerRequest] })
    class AppModule {}
    const kettle = (await boot(AppModule, logs)).get(KettleService);
    expect(logs.text()).toMatch(
      /Cannot use @OnMaster\(\) on "PerRequest.run" because "PerRequest" is request-scoped/,
    );
    expect(kettle.names()).toEqual([]);
  });

  it('joins and leaves elections at run time', async () => {
    @Module({ imports: [KettleModule.forRoot(fast())] })
    class AppModule {}
    const kettle = (await boot(AppModule)).get(KettleService);
    const terms: number[] = [];
    kettle.join('tenant-42', {
      interval: 50,
      allowShortInterval: true,
      run: ({ term }) => void terms.push(term),
    });
    expect(() => kettle.join('tenant-42')).toThrow(/already joined election "tenant-42"/);
    await waitFor(() => terms.length >= 2, 'runs of a joined election');
    expect(kettle.isMaster('tenant-42')).toBe(true);
    await kettle.leave('tenant-42');
    expect(kettle.isMaster('tenant-42')).toBe(false);
    expect(await kettle.getMaster('tenant-42')).toBeNull();
    await expect(kettle.resign('tenant-42')).rejects.toThrow(/has not joined election "tenant-42"/);
  });

  it('survives a custom store that throws instead of rejecting, and keeps contending', async () => {
    const inner = new MemoryStore(uniquePrefix());
    let failures = 3;
    const flaky: KettleStore = {
      acquire: (...args) => {
        if (failures-- > 0) throw new Error('store down');
        return inner.acquire(...args);
      },
      renew: (...args) => inner.renew(...args),
      release: (...args) => inner.release(...args),
      holder: (...args) => inner.holder(...args),
      claimRun: (...args) => inner.claimRun(...args),
      claimSlot: (...args) => inner.claimSlot(...args),
      onReleased: (listener) => inner.onReleased(listener),
      close: () => inner.close(),
    };
    const logs = new CapturedLogs();
    @Module({ imports: [KettleModule.forRoot({ store: flaky, leaseTtl: 150 })] })
    class AppModule {}
    const kettle = (await boot(AppModule, logs)).get(KettleService);
    kettle.join('flaky');
    await waitFor(() => kettle.isMaster('flaky'), 'master after the store recovers', 5000);
    expect(logs.text()).toMatch(/Election "flaky": acquire failed \(store down\); retrying/);
    expect(kettle.stats('flaky')!.storeErrors).toBe(3);
  });

  it('takes a custom store without claimSlot: guarded firings run on the master, said once; cron is refused', async () => {
    /** A store of a user's own, from before slot claims: its claimRun gives no slotMs either. */
    class LegacyStore implements KettleStore {
      private readonly inner = new MemoryStore(uniquePrefix());
      acquire: KettleStore['acquire'] = (...args) => this.inner.acquire(...args);
      renew: KettleStore['renew'] = (...args) => this.inner.renew(...args);
      release: KettleStore['release'] = (...args) => this.inner.release(...args);
      holder: KettleStore['holder'] = (...args) => this.inner.holder(...args);
      claimRun: KettleStore['claimRun'] = async (...args) => {
        const claim = await this.inner.claimRun(...args);
        return claim.outcome === 'run' ? { outcome: 'run', nextInMs: claim.nextInMs } : claim;
      };
      onReleased: KettleStore['onReleased'] = (listener) => this.inner.onReleased(listener);
      close = () => this.inner.close();
    }
    let sweeps = 0;
    @Injectable()
    class Sweeper {
      @Interval(20)
      @OnMaster('legacy-sweep')
      sweep(): void {
        sweeps++;
      }
    }
    const logs = new CapturedLogs();
    @Module({
      imports: [ScheduleModule.forRoot(), KettleModule.forRoot({ store: new LegacyStore() })],
      providers: [Sweeper],
    })
    class AppModule {}
    const kettle = (await boot(AppModule, logs)).get(KettleService);
    await waitFor(() => sweeps >= 3, 'guarded firings on the master');
    expect(kettle.stats('legacy-sweep')!.runs).toBeGreaterThanOrEqual(3);
    const said = logs.lines.filter((line) => /has no claimSlot method/.test(line.message));
    expect(said).toHaveLength(1);
    expect(said[0].message).toMatch(/the store \(LegacyStore\).*not deduplicated/);
    // Interval runs have their slot from the node's clock.
    const scheduled: Date[] = [];
    kettle.join('legacy-interval', {
      interval: 50,
      allowShortInterval: true,
      run: (context) => scheduled.push(context.scheduledAt),
    });
    await waitFor(() => scheduled.length > 0, 'an interval run');
    expect(Math.abs(scheduled[0].getTime() - Date.now())).toBeLessThan(5000);
    expect(() => kettle.schedule('legacy-cron', { cron: '* * * * * *' }, () => {})).toThrow(
      /schedule\("legacy-cron"\): invalid option "cron": the store \(LegacyStore\) has no claimSlot method/,
    );
  });

  it('works on the memory store across nodes of one process', async () => {
    const prefix = uniquePrefix();
    const services: KettleService[] = [];
    for (const nodeId of ['m1', 'm2']) {
      @Module({
        imports: [
          KettleModule.forRoot({ store: 'memory', keyPrefix: prefix, nodeId, leaseTtl: 300 }),
        ],
      })
      class AppModule {}
      const kettle = (await boot(AppModule)).get(KettleService);
      kettle.join('solo');
      services.push(kettle);
    }
    await waitFor(() => services.filter((s) => s.isMaster('solo')).length === 1, 'one master');
    const master = services.find((s) => s.isMaster('solo'))!;
    await master.resign('solo');
    const other = services.find((s) => s !== master)!;
    await waitFor(() => other.isMaster('solo'), 'the other node to take over');
    expect(await master.getMaster('solo')).toBe(other.nodeId);
  });
});

describe('KettleModule on a Redis of its own', () => {
  it('closes the connections it opened on app.close(), and never a client it was given', async () => {
    const server = await RedisServer.start();
    const probe = new Redis(server.port);
    const given = new Redis(server.port);
    try {
      const options = fast({ redis: given, nodeId: 'closer' });
      @Module({ imports: [KettleModule.forRoot(options)] })
      class AppModule {}
      const app = await boot(AppModule);
      app.get(KettleService).join('x');
      await waitFor(() => app.get(KettleService).isMaster('x'), 'master');
      const names = async () =>
        ((await probe.client('LIST')) as string).match(/name=kettle\S*/g) ?? [];
      expect((await names()).sort()).toEqual(['name=kettle-sub:closer', 'name=kettle:closer']);
      await app.close();
      apps.splice(apps.indexOf(app), 1);
      await waitFor(async () => (await names()).length === 0, 'kettle connections to close');
      expect(await given.ping()).toBe('PONG');
      // Released on close, not left to expire.
      expect(await probe.exists(`${options.keyPrefix}{x}:lock`)).toBe(0);
    } finally {
      probe.disconnect();
      given.disconnect();
      await server.kill();
    }
  });

  it('boots while Redis is down, stays a follower, and becomes master once Redis is up', async () => {
    const server = await RedisServer.start();
    await server.kill();
    const logs = new CapturedLogs();
    @Injectable()
    class Job {
      runs = 0;
      @OnMaster('late')
      run() {
        this.runs++;
      }
    }
    @Module({ imports: [KettleModule.forRoot(fast({ redis: server.url }))], providers: [Job] })
    class AppModule {}
    try {
      const app = await boot(AppModule, logs);
      const kettle = app.get(KettleService);
      await waitFor(() => kettle.stats('late')!.storeErrors >= 3, 'three failed attempts');
      expect(kettle.isMaster('late')).toBe(false);
      expect(app.get(Job).runs).toBe(0);
      // Each outage is logged once, at warn, however often it is retried.
      const warnings = logs.lines
        .filter((line) => line.level === 'warn')
        .map((line) => line.message);
      expect(
        warnings.filter((m) => /Redis \(commands\): connect ECONNREFUSED/.test(m)),
      ).toHaveLength(1);
      expect(
        warnings.filter((m) => /Election "late": acquire failed \(Redis is not connected/.test(m)),
      ).toHaveLength(1);
      await server.start();
      await waitFor(() => kettle.isMaster('late'), 'master after Redis came up', 10_000);
      await waitFor(() => app.get(Job).runs > 0, 'a run');
      expect(logs.text()).toMatch(/Election "late": the store answers again/);
    } finally {
      await server.kill();
    }
  });
});
