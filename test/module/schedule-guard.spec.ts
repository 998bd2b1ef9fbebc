import 'reflect-metadata';
import { AsyncLocalStorage } from 'node:async_hooks';
import { Injectable, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cron, Interval, ScheduleModule, SchedulerRegistry, Timeout } from '@nestjs/schedule';
import { afterEach, describe, expect, it } from 'vitest';
import { Test } from '@nestjs/testing';
import { sleep, waitFor } from '#tools/wait.js';
import { KettleModule, KettleService, OnMaster } from '../../lib/index.js';
import { KettleElectionDriver, KettleTestingModule } from '../../lib/testing/index.js';
import { Kettle, type RunInfo, type RunOutcome } from '../../lib/core/index.js';
import { systemClock } from '../../lib/core/utils/clock.js';
import { firingSlotsOf } from '../../lib/schedule/firing-slots.js';
import { CapturedLogs } from '../support/log-capture.js';
import { isChange, uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

const LEASE = 1500;

/** Which node ran which scheduled body, in order, and within which run observer's context. */
type Runs = Array<{ nodeId: string; method: string; term: number | undefined; within?: string }>;

/** What a run observer of the tests sets around a run: the body reads it. */
const observerContext = new AsyncLocalStorage<string>();

describe('@OnMaster on a @Cron, @Interval or @Timeout method (@nestjs/schedule)', () => {
  const apps: INestApplicationContext[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function node(nodeId: string, prefix: string, runs: Runs, schedule = true) {
    @Injectable()
    class Jobs {
      constructor(private readonly kettle: KettleService) {}

      // @OnMaster below the schedule decorator...
      @Interval('sweep', 50)
      @OnMaster('sweep', { leaseTtl: LEASE })
      sweep(): void {
        const within = observerContext.getStore();
        runs.push({ nodeId, method: 'sweep', term: this.kettle.term('sweep'), within });
      }

      // ...and above it: both orders work.
      @OnMaster('report', { leaseTtl: LEASE })
      @Cron('* * * * * *', { name: 'report' })
      async report(): Promise<void> {
        runs.push({ nodeId, method: 'report', term: this.kettle.term('report') });
      }

      @OnMaster('warmup', { leaseTtl: LEASE })
      @Timeout('warmup', 400)
      warmup(): void {
        runs.push({ nodeId, method: 'warmup', term: this.kettle.term('warmup') });
      }
    }

    @Module({
      imports: [
        ...(schedule ? [ScheduleModule.forRoot()] : []),
        KettleModule.forRoot({ redis: SHARED_REDIS_URL, keyPrefix: prefix, nodeId }),
      ],
      providers: [Jobs],
    })
    class AppModule {}

    const logs = new CapturedLogs();
    const app = await NestFactory.createApplicationContext(AppModule, { logger: logs });
    apps.push(app);
    return { app, kettle: app.get(KettleService), logs };
  }

  it('fires on every node and runs the body only on the master, which changes on close()', async () => {
    const prefix = uniquePrefix();
    const runs: Runs = [];
    const nodes = [await node('a', prefix, runs), await node('b', prefix, runs)];
    const master = await waitFor(
      () => nodes.find(({ kettle }) => kettle.isMaster('sweep')),
      'a master of sweep',
    );
    const follower = nodes.find((n) => n !== master)!;
    await waitFor(() => runs.filter((r) => r.method === 'sweep').length >= 5, 'five sweeps');
    // The follower's interval fired too, and was skipped: counted, not run.
    await waitFor(
      () => follower.kettle.stats('sweep')!.followerSkips >= 3,
      'skips on the follower',
    );
    const sweeps = runs.filter((r) => r.method === 'sweep');
    expect(new Set(sweeps.map((r) => r.nodeId))).toEqual(new Set([master.kettle.nodeId]));
    expect(sweeps.every((r) => r.term === master.kettle.term('sweep'))).toBe(true);
    expect(master.kettle.stats('sweep')!.runs).toBe(sweeps.length);

    // The schedule is @nestjs/schedule's own: still listed in its registry.
    const registry = master.app.get(SchedulerRegistry);
    expect(registry.getIntervals()).toContain('sweep');
    expect([...registry.getCronJobs().keys()]).toContain('report');

    const before = master.kettle.term('sweep')!;
    await master.app.close();
    apps.splice(apps.indexOf(master.app), 1);
    await waitFor(() => follower.kettle.isMaster('sweep'), 'the follower to take over');
    const count = runs.length;
    await waitFor(
      () =>
        runs.slice(count).some((r) => r.method === 'sweep' && r.nodeId === follower.kettle.nodeId),
      'a sweep on the new master',
    );
    expect(follower.kettle.term('sweep')).toBeGreaterThan(before);
  });

  it('wraps each guarded run in the run observers (onRun), with its term, in their context', async () => {
    const prefix = uniquePrefix();
    const runs: Runs = [];
    const { kettle } = await node('a', prefix, runs);
    const observed: Array<{ run: RunInfo; outcome: RunOutcome }> = [];
    const unsubscribe = kettle.onRun((run, proceed) =>
      observerContext.run(`observing ${run.job}`, async () => {
        observed.push({ run, outcome: await proceed() });
      }),
    );
    await waitFor(() => observed.filter((o) => o.run.name === 'sweep').length >= 3, 'sweeps');
    await waitFor(() => observed.some((o) => o.run.name === 'report'), 'a report (a @Cron)');
    unsubscribe();
    // A cron firing's run is scheduled at the slot it claimed (a whole second here), not at the
    // moment the timer fired, which is a few ms later.
    for (const { run } of observed.filter((o) => o.run.name === 'report'))
      expect(run.scheduledAt.getTime() % 1000).toBe(0);
    const sweeps = observed.filter((o) => o.run.name === 'sweep');
    for (const { run, outcome } of sweeps) {
      expect(run).toMatchObject({ nodeId: 'a', term: kettle.term('sweep'), job: 'Jobs.sweep' });
      expect(outcome).toEqual({ ok: true });
    }
    const within = runs.filter((r) => r.method === 'sweep' && r.within).map((r) => r.within);
    expect(within.length).toBe(sweeps.length);
    expect(new Set(within)).toEqual(new Set(['observing Jobs.sweep']));
    // Unsubscribed: later runs go unobserved.
    const count = runs.length;
    await waitFor(() => runs.slice(count).some((r) => r.method === 'sweep'), 'another sweep');
    expect(runs.slice(count).every((r) => r.within === undefined)).toBe(true);
    expect(() => kettle.onRun('not a function' as never)).toThrow(
      'Kettle: onRun() expects a function (the run observer); got "not a function".',
    );
  });

  it('guards @Cron and @Timeout the same way', async () => {
    const prefix = uniquePrefix();
    const runs: Runs = [];
    const nodes = [await node('a', prefix, runs), await node('b', prefix, runs)];
    await waitFor(() => runs.filter((r) => r.method === 'report').length >= 2, 'two reports', 5000);
    await waitFor(() => runs.some((r) => r.method === 'warmup'), 'the warm-up (a @Timeout)');
    for (const method of ['report', 'warmup']) {
      const mine = runs.filter((r) => r.method === method);
      const master = nodes.find(({ kettle }) => kettle.nodeId === mine[0].nodeId)!;
      expect(new Set(mine.map((r) => r.nodeId))).toEqual(new Set([master.kettle.nodeId]));
      expect(mine[0].term).toBeGreaterThan(0);
    }
    // A timeout fires once per node: the master ran it once, the follower skipped it once.
    const warmups = nodes.map(({ kettle }) => kettle.stats('warmup')!);
    expect(warmups.reduce((sum, s) => sum + s.runs + s.followerSkips, 0)).toBe(2);
  });

  it('runs every @Interval firing of one master, however its firings drift on its clock', async () => {
    class Sweeper {
      @Interval(100)
      sweep(): void {}
    }
    const logs = new CapturedLogs();
    const kettle = new Kettle({ redis: SHARED_REDIS_URL, keyPrefix: uniquePrefix(), logger: logs });
    kettle.join('drifting', { leaseTtl: LEASE });
    kettle.start();
    try {
      await waitFor(() => kettle.isMaster('drifting'), 'a master');
      const election = kettle.electionOf('drifting')!;
      const slots = firingSlotsOf(Sweeper.prototype.sweep);
      // Firings a period apart, each read on the node's clock a few ms early or late: the 2nd and
      // 3rd fall in one cell of the period's grid, as do the 4th and 5th.
      const base = Math.floor(Date.now() / 100) * 100 - 1000;
      const outcomes: string[] = [];
      for (const at of [5, 105, 199, 305, 399]) {
        kettle.clock = { ...systemClock, wallNow: () => base + at };
        outcomes.push(await election.claimFiringSlot('Sweeper.sweep', slots));
        await sleep(100);
      }
      expect(outcomes).toEqual(['run', 'run', 'run', 'run', 'run']);
    } finally {
      await kettle.stop();
    }
  });

  it("runs one @Cron slot once on a node that fires twice for it, though the store answers its term 'run' again", async () => {
    class Reports {
      @Cron('* * * * * *')
      daily(): void {}
    }
    const logs = new CapturedLogs();
    const kettle = new Kettle({ redis: SHARED_REDIS_URL, keyPrefix: uniquePrefix(), logger: logs });
    kettle.join('twice-fired', { leaseTtl: LEASE });
    kettle.start();
    try {
      await waitFor(() => kettle.isMaster('twice-fired'), 'a master');
      const election = kettle.electionOf('twice-fired')!;
      const slots = firingSlotsOf(Reports.prototype.daily);
      const at = Math.floor(Date.now() / 1000) * 1000 - 1000;
      kettle.clock = { ...systemClock, wallNow: () => at + 10 };
      const first = election.claimFiringSlot('Reports.daily', slots);
      kettle.clock = { ...systemClock, wallNow: () => at + 20 };
      const second = election.claimFiringSlot('Reports.daily', slots);
      expect([await first, await second]).toEqual(['run', 'repeated']);
      kettle.clock = { ...systemClock, wallNow: () => at + 1010 };
      expect(await election.claimFiringSlot('Reports.daily', slots)).toBe('run');
    } finally {
      await kettle.stop();
    }
  });

  it('lets a later firing claim a @Cron slot that a claim won with too little lease left to start', async () => {
    class Reports {
      @Cron('* * * * * *')
      daily(): void {}
    }
    const kettle = new Kettle({
      redis: SHARED_REDIS_URL,
      keyPrefix: uniquePrefix(),
      logger: new CapturedLogs(),
    });
    kettle.join('won-late', { leaseTtl: LEASE });
    kettle.start();
    try {
      await waitFor(() => kettle.isMaster('won-late'), 'a master');
      const election = kettle.electionOf('won-late')!;
      const { renewDeadline, safetyMargin } = election.timing;
      const slots = firingSlotsOf(Reports.prototype.daily);
      const at = Math.floor(Date.now() / 1000) * 1000;
      kettle.clock = { ...systemClock, wallNow: () => at + 10 };
      // Answered this long after it left, the claim leaves less than the margin of its lease...
      const answeredAfter = renewDeadline - safetyMargin + 20;
      // ...and it is answered before its own deadline (a fresh renewal).
      await waitFor(() => election.leaseLeft > answeredAfter + 200, 'a fresh renewal');
      const sentAt = performance.now();
      const first = election.claimFiringSlot('Reports.daily', slots);
      await Promise.resolve(); // the claim is on its way
      // The event loop stalls (a long GC pause, say): the answer is read that late.
      while (performance.now() - sentAt < answeredAfter);
      expect(await first).toBe('late');
      // A later firing of the slot, once a renewal gave the lease back its length.
      await waitFor(() => election.leaseLeft > answeredAfter, 'the next renewal');
      kettle.clock = { ...systemClock, wallNow: () => at + 20 };
      expect(await election.claimFiringSlot('Reports.daily', slots)).toBe('run');
    } finally {
      await kettle.stop();
    }
  });

  it('logs and counts a failing guarded body, and the schedule goes on', async () => {
    let calls = 0;
    @Injectable()
    class Failing {
      @Interval(50)
      @OnMaster('failing', { leaseTtl: LEASE })
      tick(): void {
        calls++;
        throw new Error('boom');
      }
    }
    @Module({
      imports: [
        ScheduleModule.forRoot(),
        KettleModule.forRoot({ redis: SHARED_REDIS_URL, keyPrefix: uniquePrefix() }),
      ],
      providers: [Failing],
    })
    class FailingModule {}
    const logs = new CapturedLogs();
    const app = await NestFactory.createApplicationContext(FailingModule, { logger: logs });
    apps.push(app);
    const kettle = app.get(KettleService);
    await waitFor(() => kettle.stats('failing')!.failedRuns >= 3, 'three failures');
    expect(calls).toBeGreaterThanOrEqual(3);
    expect(logs.text()).toMatch(
      /Election "failing": the scheduled master method failed \(Failing.tick\): boom/,
    );
  });

  it('lets a unit test decide with KettleTestingModule, and call the method as the schedule would', async () => {
    let ran = 0;
    @Injectable()
    class Hourly {
      @Cron('0 0 * * * *')
      @OnMaster('hourly')
      report(): void {
        ran++;
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), KettleTestingModule.forRoot()],
      providers: [Hourly],
    }).compile();
    await moduleRef.init();
    apps.push(moduleRef);
    const hourly = moduleRef.get(Hourly);
    const control = moduleRef.get(KettleElectionDriver);
    await hourly.report(); // a follower: skipped
    expect(ran).toBe(0);
    await control.elect('hourly');
    await hourly.report();
    expect(ran).toBe(1);
    await control.revoke('hourly');
    await hourly.report();
    expect(ran).toBe(1);
    expect(moduleRef.get(KettleService).stats('hourly')).toMatchObject({
      runs: 1,
      followerSkips: 2,
    });
  });

  it('logs and counts a body that throws a value with no string form, and close() still releases', async () => {
    @Injectable()
    class Odd {
      @Cron('0 0 * * * *')
      @OnMaster('odd')
      report(): void {
        // String() throws on an object without a prototype: describing it must not.
        throw Object.create(null) as unknown;
      }
    }
    const logs = new CapturedLogs();
    const moduleRef = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), KettleTestingModule.forRoot({ logger: logs })],
      providers: [Odd],
    }).compile();
    await moduleRef.init();
    const control = moduleRef.get(KettleElectionDriver);
    await control.elect('odd');
    await expect(moduleRef.get(Odd).report()).resolves.toBeUndefined();
    expect(moduleRef.get(KettleService).stats('odd')).toMatchObject({ runs: 1, failedRuns: 1 });
    expect(logs.text()).toMatch(/the scheduled master method failed \(Odd.report\)/);
    await moduleRef.close();
  });

  it('keeps the guard when another decorator wraps the method and copies its metadata', async () => {
    // The usual shape of a tracing or transaction decorator: replace the method, copy its metadata.
    const Wrapped = (): MethodDecorator => (_target, _key, descriptor) => {
      const inner = descriptor.value as unknown as (...args: unknown[]) => unknown;
      const outer = function (this: unknown, ...args: unknown[]) {
        return inner.apply(this, args);
      };
      for (const key of Reflect.getMetadataKeys(inner)) {
        Reflect.defineMetadata(key, Reflect.getMetadata(key, inner), outer);
      }
      descriptor.value = outer as typeof descriptor.value;
      return descriptor;
    };
    const ran: string[] = [];
    @Injectable()
    class Traced {
      @Interval(60_000)
      @Wrapped()
      @OnMaster('traced-below')
      below(): void {
        ran.push('below');
      }

      @Wrapped()
      @Cron('0 0 * * * *')
      @OnMaster('traced-above')
      above(): void {
        ran.push('above');
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), KettleTestingModule.forRoot()],
      providers: [Traced],
    }).compile();
    await moduleRef.init();
    apps.push(moduleRef);
    const traced = moduleRef.get(Traced);
    const control = moduleRef.get(KettleElectionDriver);
    await traced.below(); // a follower of both: skipped
    await traced.above();
    expect(ran).toEqual([]);
    await control.elect('traced-below');
    await control.elect('traced-above');
    await traced.below();
    await traced.above();
    expect(ran).toEqual(['below', 'above']);
    expect(moduleRef.get(KettleService).stats('traced-below')).toMatchObject({
      runs: 1,
      followerSkips: 1,
    });
  });

  it('refuses a getter or setter, at class definition', () => {
    expect(() => {
      class Accessor {
        // @ts-expect-error: the type refuses it as well
        @OnMaster('accessor')
        get value(): number {
          return 1;
        }
      }
      return Accessor;
    }).toThrow(/@OnMaster\('accessor'\) is on value, which is not a method/);
  });

  it('app.close() waits for a running scheduled body before it releases the lease; firings meanwhile are no follower skips', async () => {
    const events: string[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let firings = 0;
    @Injectable()
    class Slow {
      @Interval(50)
      @OnMaster('slow', { leaseTtl: LEASE })
      async flush(): Promise<void> {
        events.push('start');
        await gate;
        events.push('end');
      }

      // Fires as often, unguarded: counts the guarded method's firings.
      @Interval(50)
      fired(): void {
        firings++;
      }
    }
    @Module({
      imports: [
        ScheduleModule.forRoot(),
        KettleModule.forRoot({ redis: SHARED_REDIS_URL, keyPrefix: uniquePrefix() }),
      ],
      providers: [Slow],
    })
    class SlowModule {}
    const app = await NestFactory.createApplicationContext(SlowModule, { logger: false });
    const kettle = app.get(KettleService);
    kettle.leadership$.subscribe(
      (change) => isChange(change) && events.push(change.isMaster ? 'elected' : 'revoked'),
    );
    await waitFor(() => events.includes('start'), 'a scheduled run');
    const skipped = kettle.stats('slow')!.followerSkips;
    const closed = app.close();
    // Stopping: firings from now on are skipped, and the lease stays until the runs end. The node
    // is still master: they are not counted as a follower's.
    const firedBefore = firings;
    await waitFor(() => firings >= firedBefore + 3, 'firings while stopping');
    expect(events.filter((e) => e === 'start')).toHaveLength(1);
    expect(kettle.stats('slow')!.followerSkips).toBe(skipped);
    expect(events).not.toContain('revoked');
    open();
    await closed;
    const count = (event: string) => events.filter((e) => e === event).length;
    expect(count('end')).toBe(count('start'));
    expect(events.indexOf('revoked')).toBeGreaterThan(events.lastIndexOf('end'));
  });

  it('runs the body as written when the class is used outside Nest', () => {
    const runs: Runs = [];
    class Plain {
      @Interval(50)
      @OnMaster('plain')
      tick(): string {
        runs.push({ nodeId: 'none', method: 'tick', term: undefined });
        return 'ran';
      }
    }
    expect(new Plain().tick()).toBe('ran');
    expect(Plain.prototype.tick.name).toBe('tick');
  });

  it('refuses an interval option, which the schedule overrides, at bootstrap', async () => {
    @Injectable()
    class Wrong {
      @Interval(50)
      @OnMaster('wrong', { interval: 1000 })
      tick(): void {}
    }
    @Module({
      imports: [ScheduleModule.forRoot(), KettleModule.forRoot({ keyPrefix: uniquePrefix() })],
      providers: [Wrong],
    })
    class WrongModule {}
    await expect(
      NestFactory.createApplicationContext(WrongModule, { logger: false, abortOnError: false }),
    ).rejects.toThrow(
      /@OnMaster\('wrong'\) on Wrong.tick has @Cron, @Interval or @Timeout.*"interval"/,
    );
  });

  it('refuses two guarded methods of one class and method name in one election, at bootstrap', async () => {
    // Two classes that share a name, as in two feature modules, or after minification.
    const feature = (election: string) => {
      @Injectable()
      class Jobs {
        @Interval(60_000)
        @OnMaster(election)
        sweep(): void {}
      }
      return Jobs;
    };
    const boot = async (elections: [string, string]) => {
      @Module({ providers: [feature(elections[0])] })
      class ReportsModule {}
      @Module({ providers: [feature(elections[1])] })
      class BillingModule {}
      @Module({
        imports: [
          ScheduleModule.forRoot(),
          KettleModule.forRoot({ store: 'memory', keyPrefix: uniquePrefix() }),
          ReportsModule,
          BillingModule,
        ],
      })
      class AppModule {}
      const app = await NestFactory.createApplicationContext(AppModule, {
        logger: false,
        abortOnError: false,
      });
      apps.push(app);
    };
    await expect(boot(['sweep', 'sweep'])).rejects.toThrow(
      /@OnMaster\('sweep'\) guards two scheduled methods of one name, Jobs.sweep \(in ReportsModule\) and Jobs.sweep \(in BillingModule\).*distinct election names/,
    );
    await expect(boot(['reports-sweep', 'billing-sweep'])).resolves.toBeUndefined();
  });

  it('refuses one guarded class provided in two modules, and says to provide it once', async () => {
    @Injectable()
    class SharedJobs {
      @Interval(60_000)
      @OnMaster('shared-sweep')
      sweep(): void {}
    }
    @Module({ providers: [SharedJobs] })
    class AModule {}
    @Module({ providers: [SharedJobs] })
    class BModule {}
    @Module({
      imports: [
        ScheduleModule.forRoot(),
        KettleModule.forRoot({ store: 'memory', keyPrefix: uniquePrefix() }),
        AModule,
        BModule,
      ],
    })
    class AppModule {}
    const booting = NestFactory.createApplicationContext(AppModule, {
      logger: false,
      abortOnError: false,
    });
    await expect(booting).rejects.toThrow(
      /@OnMaster\('shared-sweep'\) on SharedJobs.sweep guards two instances: its class is provided in two modules, AModule and BModule.*Provide it in one module and export it/,
    );
  });

  it('boots with a useExisting alias of a guarded provider, and runs each firing once', async () => {
    let sweeps = 0;
    @Injectable()
    class Jobs {
      @Interval(200)
      @OnMaster('alias-sweep', { leaseTtl: LEASE })
      sweep(): void {
        sweeps++;
      }
    }
    @Module({
      imports: [
        ScheduleModule.forRoot(),
        KettleModule.forRoot({ redis: SHARED_REDIS_URL, keyPrefix: uniquePrefix() }),
      ],
      providers: [Jobs, { provide: 'JOBS_ALIAS', useExisting: Jobs }],
    })
    class AliasModule {}
    const app = await NestFactory.createApplicationContext(AliasModule, {
      logger: false,
      abortOnError: false,
    });
    apps.push(app);
    const kettle = app.get(KettleService);
    await waitFor(() => kettle.stats('alias-sweep')!.runs >= 2, 'two sweeps');
    expect(sweeps).toBe(kettle.stats('alias-sweep')!.runs);
  });

  it('refuses cron on a method that @nestjs/schedule fires, at bootstrap', async () => {
    @Injectable()
    class Twice {
      @Cron('0 0 * * * *')
      @OnMaster('twice', { cron: '0 0 2 * * *' })
      report(): void {}
    }
    @Module({
      imports: [ScheduleModule.forRoot(), KettleModule.forRoot({ keyPrefix: uniquePrefix() })],
      providers: [Twice],
    })
    class TwiceModule {}
    await expect(
      NestFactory.createApplicationContext(TwiceModule, { logger: false, abortOnError: false }),
    ).rejects.toThrow(/@OnMaster\('twice'\) on Twice.report has @Cron.*"cron" does not apply/);
  });

  it("gives its bootstrap warnings to the module's logger option", async () => {
    const warnings: string[] = [];
    const logger = { log() {}, error() {}, debug() {}, warn: (m: string) => void warnings.push(m) };
    @Injectable()
    class Unscheduled {
      @Interval(60_000)
      @OnMaster('unscheduled')
      tick(): void {}
    }
    @Module({
      imports: [KettleModule.forRoot({ store: 'memory', keyPrefix: uniquePrefix(), logger })],
      providers: [Unscheduled],
    })
    class UnscheduledModule {}
    const app = await NestFactory.createApplicationContext(UnscheduledModule, { logger: false });
    apps.push(app);
    expect(warnings.join('\n')).toMatch(/on Unscheduled.tick guards a @Cron.*not imported/);
  });

  it('warns when ScheduleModule is not imported, since nothing would fire the method', async () => {
    const { logs } = await node('alone', uniquePrefix(), [], false);
    expect(logs.text()).toMatch(
      /on Jobs.sweep guards a @Cron, @Interval or @Timeout, but ScheduleModule is not imported/,
    );
  });
});
