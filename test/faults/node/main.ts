/**
 * A node for the fault suite: a Nest application context that joins the elections named in
 * ELECTIONS and writes one event line per event on stdout, timed on CLOCK_MONOTONIC (shared by
 * every process of one boot), for the invariant checker. Its job ignores its signal on purpose
 * and writes to a fenced resource at the end of every run, as a careless job would.
 */
import 'reflect-metadata';
import {
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Cron, ScheduleModule } from '@nestjs/schedule';
import { Redis } from 'ioredis';
import {
  fencedSet,
  KettleModule,
  KettleService,
  type KettleLogger,
  type MasterContext,
  OnMaster,
} from 'nestjs-kettle';
import { monotonicNow } from '#tools/clock.js';
import { writeEventLine } from '#tools/event-lines.js';
import { sleep } from '#tools/wait.js';

const env = process.env;
const nodeId = env.NODE_ID ?? `node-${process.pid}`;
const keyPrefix = env.KEY_PREFIX ?? 'faults:';
const elections = (env.ELECTIONS ?? 'job').split(',').filter(Boolean);
const runMs = Number(env.RUN_MS ?? 0);
/** Elections whose job never finishes: a fault confined to one election. */
const hanging = new Set((env.HANG ?? '').split(',').filter(Boolean));
/**
 * SPIN_MS: after SIGUSR1, the next run reads `leaseValid()` in a synchronous loop (for at most this
 * long) until it turns false, and reports what it saw at that moment; then it writes through
 * `fencedSet(…, context)`, as a careful job would.
 */
const spinMs = Number(env.SPIN_MS ?? 0);
/** REDIS_URLS (comma-separated): a quorum of independent servers; else the one Redis of REDIS_URL. */
const quorum = (env.REDIS_URLS ?? '').split(',').filter(Boolean);
/** CRON: the elections run on this cron schedule (with CATCH_UP when given) instead of an interval. */
const cron = env.CRON;
/**
 * CLOCK_OFFSET_MS: this node's wall clock is off by this much, for kettle (its default clock reads
 * Date.now) and for @nestjs/schedule's cron alike; the monotonic clock is not, as on a real host.
 */
const clockOffsetMs = Number(env.CLOCK_OFFSET_MS ?? 0);
if (clockOffsetMs !== 0) {
  const realNow = Date.now.bind(Date);
  Date.now = () => realNow() + clockOffsetMs;
}

const emit = ({ ev, ...fields }: { ev: string; [field: string]: unknown }) =>
  writeEventLine({ ev, node: nodeId, t: monotonicNow(), ...fields });

/**
 * KETTLE_LOG=1: kettle's own lines (but debug) become `log` events, timed with the others, so that
 * a test can read what kettle said and when (the app's logger shows warnings and errors only).
 */
const eventLogger: KettleLogger = {
  log: (message) => emit({ ev: 'log', level: 'log', message }),
  warn: (message) => emit({ ev: 'log', level: 'warn', message }),
  error: (message) => emit({ ev: 'log', level: 'error', message }),
  debug: () => undefined,
};

@Injectable()
class FaultJobs implements OnApplicationBootstrap, OnApplicationShutdown {
  /** The protected resource: on RESOURCE_URL, else on the election's Redis; its own connection. */
  private readonly resource = new Redis(
    env.RESOURCE_URL ?? env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    { maxRetriesPerRequest: 1 },
  );

  constructor(private readonly kettle: KettleService) {
    this.resource.on('error', () => undefined);
  }

  onApplicationBootstrap(): void {
    // An election's takeovers so far (crashDetection 'connection'): the count goes up before the
    // leadership it won is told.
    this.kettle.leadership$.subscribe(({ name, isMaster, term, reason }) =>
      emit({
        ev: isMaster ? 'elected' : 'revoked',
        election: name,
        term,
        reason,
        takeovers: this.kettle.stats(name)?.takeovers,
      }),
    );
    // A bad CATCH_UP is kettle's to refuse, at join.
    const catchUp = env.CATCH_UP as 'none' | 'latest' | undefined;
    const schedule = cron ? { cron, ...(catchUp && { catchUp }) } : {};
    for (const name of elections)
      this.kettle.join(name, { ...schedule, run: (context) => this.run(context) });
    emit({ ev: 'up', pid: process.pid });
  }

  async onApplicationShutdown(): Promise<void> {
    this.resource.disconnect();
  }

  /** Set by SIGUSR1 when SPIN_MS is given: the next run spins. */
  spinNext = false;

  private async run(context: MasterContext): Promise<void> {
    const { name, term, signal } = context;
    if (this.spinNext) {
      this.spinNext = false;
      return this.spin(context);
    }
    // The slot, and the real wall time (without CLOCK_OFFSET_MS) the run started at.
    const slot = context.scheduledAt.getTime();
    emit({ ev: 'start', election: name, term, slot, at: Date.now() - clockOffsetMs });
    if (hanging.has(name)) await new Promise(() => undefined);
    if (runMs > 0) await sleep(runMs);
    await this.write(name, term, term);
    emit({ ev: 'end', election: name, term, aborted: signal.aborted });
  }

  /** The fenced write at the end of a run; `sentAt` lets the checker order it as the server did. */
  private async write(name: string, term: number, fence: number | MasterContext): Promise<void> {
    const sentAt = monotonicNow();
    const accepted = await fencedSet(
      this.resource,
      `${keyPrefix}resource:${name}`,
      `${nodeId}:${term}`,
      fence,
    ).catch(() => null);
    emit({ ev: 'write', election: name, term, accepted, sentAt });
  }

  /**
   * Checks the lease on every pass of a loop that never yields, so that no timer of kettle's can
   * run meanwhile. `gapMs` is the longest time between two passes (a freeze lands between two);
   * what the loop saw on its last pass is reported before anything else can run.
   */
  private async spin(context: MasterContext): Promise<void> {
    const { name, term, signal } = context;
    emit({ ev: 'start', election: name, term });
    emit({ ev: 'spin', election: name, term });
    const bound = monotonicNow() + spinMs;
    let previous = monotonicNow();
    let gapMs = 0;
    let valid = true;
    let aborted = false;
    while (valid) {
      valid = context.leaseValid();
      aborted = signal.aborted;
      // Read after the check, so that a freeze anywhere in this pass counts in this pass's gap.
      const t = monotonicNow();
      gapMs = Math.max(gapMs, t - previous);
      previous = t;
      if (t > bound) break;
    }
    emit({ ev: 'spun', election: name, term, valid, aborted, gapMs });
    await this.write(name, term, context);
    // The step-down comes with the next timer: the run ends once it has.
    if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve));
    emit({ ev: 'end', election: name, term, aborted: signal.aborted });
  }
}

/**
 * GUARD=1: a `@Cron('* * * * * *')` method guarded by `@OnMaster('guarded')`. Each run reports the
 * slot the guard claimed for it, as recorded in Redis (no other claim lands within the second).
 */
@Injectable()
class GuardedJobs implements OnApplicationShutdown {
  private readonly redis = new Redis(env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
    maxRetriesPerRequest: 1,
  });

  constructor(private readonly kettle: KettleService) {
    this.redis.on('error', () => undefined);
  }

  @Cron('* * * * * *')
  @OnMaster('guarded', { leaseTtl: Number(env.LEASE_MS ?? 1500) })
  async fire(): Promise<void> {
    const term = this.kettle.term('guarded');
    const recorded = await this.redis
      .hget(`${keyPrefix}{guarded}:slot:GuardedJobs.fire`, 'slot')
      .catch(() => null);
    const slot = recorded === null ? null : Number(recorded);
    emit({ ev: 'start', election: 'guarded', term, slot, at: Date.now() - clockOffsetMs });
    emit({ ev: 'end', election: 'guarded', term, aborted: false });
  }

  onApplicationShutdown(): void {
    this.redis.disconnect();
  }
}

async function main(): Promise<void> {
  @Module({
    imports: [
      KettleModule.forRoot({
        redis: quorum.length > 0 ? quorum : env.REDIS_URL,
        keyPrefix,
        nodeId,
        interval: Number(env.INTERVAL_MS ?? 500),
        allowShortInterval: true,
        leaseTtl: Number(env.LEASE_MS ?? 1500),
        shutdownTimeout: Number(env.SHUTDOWN_MS ?? 2000),
        // BALANCE=1: leadership spread over the nodes.
        balance: env.BALANCE === '1',
        // CRASH_DETECTION=connection: a master whose connections closed is taken over at once.
        crashDetection: env.CRASH_DETECTION as 'connection' | 'lease' | undefined,
        ...(env.KETTLE_LOG === '1' && { logger: eventLogger }),
      }),
      ...(env.GUARD ? [ScheduleModule.forRoot()] : []),
    ],
    providers: [FaultJobs, ...(env.GUARD ? [GuardedJobs] : [])],
  })
  class FaultNodeModule {}

  process.on('unhandledRejection', (error) =>
    emit({ ev: 'unhandled', error: error instanceof Error ? error.stack : String(error) }),
  );
  const app = await NestFactory.createApplicationContext(FaultNodeModule, {
    logger: ['error', 'warn'],
  });
  // SIGUSR2 blocks the event loop, as a long synchronous task would.
  process.on('SIGUSR2', () => {
    const until = monotonicNow() + Number(env.BLOCK_MS ?? 3000);
    emit({ ev: 'block' });
    while (monotonicNow() < until);
    emit({ ev: 'unblock' });
  });
  if (spinMs > 0) process.on('SIGUSR1', () => (app.get(FaultJobs).spinNext = true));
  // SIGTERM closes the app and then waits: a timer or connection left open keeps the process alive.
  process.once('SIGTERM', () => {
    void app.close().then(() => emit({ ev: 'closed' }));
  });
}

void main();
