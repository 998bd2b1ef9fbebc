import type { ElectionStats } from '../interfaces/election-stats.interface.js';
import type { StepDownReason } from '../interfaces/leadership-change.interface.js';
import * as messages from '../kettle.messages.js';
import type { AcquireResult, KettleStore } from '../store/kettle-store.interface.js';
import { newLease } from '../store/lease.js';
import type { ElectionConfig } from './election-config.js';
import { describeError, LeadershipEndedError, stackOf } from './errors.js';
import { JobRunner } from './job-runner.js';
import { type ElectionTiming, jittered } from './timing.js';
import { withTimeout } from '../timeouts.js';

/** The lease this node holds, measured on its own monotonic clock. */
interface Leadership {
  readonly lease: string;
  readonly term: number;
  /** When the lease ends on this node's clock: the time the last acquire or renew was sent, plus TTL, less drift. */
  deadline: number;
  readonly controller: AbortController;
}

const now = () => performance.now();

type TimerName = 'acquire' | 'renew' | 'expire' | 'tick';

/**
 * One election on this node: follower -> master -> follower, in the shape of client-go's
 * leaderelection loop. A follower tries to acquire when the holder's lease should have ended and
 * whenever a release is announced; a master renews every third of its lease and steps down on its
 * own clock when the deadline passes unrenewed, whatever Redis is doing.
 */
export class Election {
  readonly stats: ElectionStats = {
    elected: 0,
    revoked: 0,
    runs: 0,
    failedRuns: 0,
    skippedTicks: 0,
    storeErrors: 0,
  };
  private leadership?: Leadership;
  private state: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  private readonly timers = new Map<TimerName, NodeJS.Timeout>();
  private acquiring?: Promise<void>;
  /** A release was announced while an acquire was on its way. */
  private contendAgain = false;
  private stopped?: Promise<void>;
  private readonly runner: JobRunner;
  /** After resigning, this node lets the others take the lease first. */
  private holdOffUntil = 0;
  private readonly unsubscribers: Array<() => void> = [];
  private lastError?: string;

  constructor(private readonly options: ElectionConfig) {
    this.runner = new JobRunner(options.jobs, this.stats, options.logger);
  }

  get name(): string {
    return this.options.name;
  }

  get timing(): ElectionTiming {
    return this.options.timing;
  }

  /** True only while this node holds a lease that has not ended on its own clock. */
  get isMaster(): boolean {
    return this.leadership !== undefined && now() < this.leadership.deadline;
  }

  get term(): number | undefined {
    return this.isMaster ? this.leadership?.term : undefined;
  }

  /** Milliseconds of lease left on this node's clock; 0 when not master. */
  get leaseLeft(): number {
    return this.leadership ? Math.max(0, this.leadership.deadline - now()) : 0;
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'running';
    const { store } = this.options;
    this.unsubscribers.push(store.onReleased((name) => name === this.name && this.contendNow()));
    // A store that is (re)connecting will say when it can answer: contend at once then, not on the next retry.
    if (store.onConnected) {
      this.unsubscribers.push(store.onConnected(() => this.contendNow()));
    }
    this.schedule('acquire', store.connected === false ? jittered(this.timing.retryEvery) : 0);
  }

  private contendNow(): void {
    if (this.state !== 'running' || this.leadership || now() < this.holdOffUntil) return;
    // An attempt on its way may already have been told "held": try again right after it.
    if (this.acquiring) this.contendAgain = true;
    else this.schedule('acquire', 0);
  }

  /** Gives the lease up now and lets another node take it; this node contends again later. */
  async resign(): Promise<void> {
    const leadership = this.stepDown('resigned');
    if (!leadership) return;
    this.holdOffUntil = now() + this.timing.retryEvery;
    this.schedule('acquire', jittered(this.timing.retryEvery));
    await this.release(leadership.lease);
  }

  /**
   * Stops contending. A running job sees its signal abort and gets up to `drainMs` to finish,
   * while the lease is still renewed so that no other node starts a run meanwhile; then the lease
   * is released and the followers hear of it at once.
   */
  stop(drainMs: number): Promise<void> {
    this.stopped ??= this.shutdown(drainMs);
    return this.stopped;
  }

  private async shutdown(drainMs: number): Promise<void> {
    this.state = 'stopping';
    for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
    this.clear('acquire');
    this.clear('tick');
    await this.acquiring;
    if (this.runner.busy) {
      this.leadership?.controller.abort(new LeadershipEndedError('shutdown'));
      if (!(await this.runner.drain(drainMs))) {
        this.options.logger.warn(messages.shutdownTimedOut(this.name, drainMs));
      }
    }
    const leadership = this.stepDown('shutdown');
    this.state = 'stopped';
    for (const name of this.timers.keys()) this.clear(name);
    if (leadership) await this.release(leadership.lease);
  }

  private acquire(): Promise<void> {
    if (this.state !== 'running' || this.leadership) return Promise.resolve();
    this.acquiring ??= this.tryAcquire().finally(() => {
      this.acquiring = undefined;
    });
    return this.acquiring;
  }

  private async tryAcquire(): Promise<void> {
    const { leaseTtl, retryEvery, renewEvery } = this.timing;
    const lease = newLease(this.options.nodeId);
    this.contendAgain = false;
    const sentAt = now();
    let result: AcquireResult;
    try {
      result = await this.callStore('acquire', renewEvery, (store) =>
        store.acquire(this.name, lease, leaseTtl),
      );
    } catch (error) {
      this.failed('acquire', error);
      // The outcome is unknown: the lease may be ours. Delete it rather than make others wait it out.
      void this.release(lease, false);
      this.schedule('acquire', jittered(retryEvery));
      return;
    }
    this.succeeded();
    if (result.acquired) {
      // Stopped while the acquire was on its way: give it straight back.
      if (this.state !== 'running') return this.release(lease);
      return this.becomeMaster(lease, result.term, sentAt);
    }
    // Look again just after the holder's lease would end unrenewed: no sooner can it be free
    // (a release is announced, and heard at once). Polling on a shorter period only costs Redis.
    const ends = result.ttlMs >= 0 ? result.ttlMs + 1 + Math.random() * 10 : jittered(retryEvery);
    this.schedule('acquire', this.contendAgain ? 0 : ends);
  }

  private becomeMaster(lease: string, term: number, sentAt: number): void {
    const { leaseTtl, drift, renewEvery } = this.timing;
    const leadership: Leadership = {
      lease,
      term,
      deadline: sentAt + leaseTtl - drift,
      controller: new AbortController(),
    };
    this.leadership = leadership;
    this.stats.elected++;
    this.schedule('expire', leadership.deadline - now());
    this.schedule('renew', sentAt + renewEvery - now());
    this.announce(messages.tookLeadership(this.name, term));
    this.options.onChange({ name: this.name, nodeId: this.options.nodeId, isMaster: true, term });
    if (this.runner.hasJobs) this.schedule('tick', 0);
  }

  private async renew(): Promise<void> {
    const leadership = this.leadership;
    if (!leadership) return;
    const { leaseTtl, drift, renewEvery } = this.timing;
    const sentAt = now();
    try {
      const renewed = await this.callStore(
        'renew',
        Math.min(renewEvery, leadership.deadline - sentAt),
        (store) => store.renew(this.name, leadership.lease, leaseTtl),
      );
      if (this.leadership !== leadership) {
        // Renewed after this node stepped down: hand the lease back rather than leave it orphaned.
        if (renewed) void this.release(leadership.lease, false);
        return;
      }
      this.succeeded();
      if (!renewed) return this.lose('lost');
      this.extended(leadership, sentAt);
    } catch (error) {
      if (this.leadership !== leadership) return;
      this.failed('renew', error);
      // Try again soon; the expire timer steps down if no renewal lands before the deadline.
      this.schedule('renew', Math.min(renewEvery / 2, leadership.deadline - now()));
    }
  }

  /** One tick of the master's cadence: claim the slot in the store, then run. */
  private async tick(): Promise<void> {
    const leadership = this.leadership;
    if (!leadership || this.state !== 'running') return;
    const { interval, safetyMargin, renewEvery } = this.timing;
    if (this.runner.busy) {
      this.stats.skippedTicks++;
      this.options.logger.debug(messages.runSkipped(this.name));
      return this.schedule('tick', interval);
    }
    // Too little lease left (renewals are failing): wait for a renewal or the step-down.
    if (leadership.deadline - now() < safetyMargin) return this.schedule('tick', renewEvery / 2);
    const sentAt = now();
    try {
      const claim = await this.callStore('claim run', leadership.deadline - sentAt, (store) =>
        store.claimRun(this.name, leadership.lease, interval, this.timing.leaseTtl),
      );
      if (this.leadership !== leadership || this.state !== 'running') return;
      this.succeeded();
      if (claim.outcome === 'not-holder') return this.lose('lost');
      // The claim renewed the lease as well: the next renewal can wait.
      this.extended(leadership, sentAt);
      if (claim.outcome === 'wait') return this.schedule('tick', claim.waitMs);
      this.schedule('tick', claim.nextInMs);
      if (leadership.deadline - now() >= safetyMargin) {
        const { name, nodeId } = this.options;
        this.runner.start({
          name,
          nodeId,
          term: leadership.term,
          signal: leadership.controller.signal,
        });
      }
    } catch (error) {
      if (this.leadership !== leadership) return;
      this.failed('claim run', error);
      this.schedule('tick', renewEvery / 2);
    }
  }

  /** The lease was extended by a command sent at `sentAt`: move the deadline and the next renewal. */
  private extended(leadership: Leadership, sentAt: number): void {
    const { leaseTtl, drift, renewEvery } = this.timing;
    leadership.deadline = sentAt + leaseTtl - drift;
    this.schedule('expire', leadership.deadline - now());
    this.schedule('renew', sentAt + renewEvery - now());
  }

  /** Ends this node's leadership locally: the signal aborts and isMaster turns false at once. */
  private stepDown(reason: StepDownReason): Leadership | undefined {
    const leadership = this.leadership;
    if (!leadership) return undefined;
    this.leadership = undefined;
    this.clear('renew');
    this.clear('expire');
    this.clear('tick');
    this.stats.revoked++;
    leadership.controller.abort(new LeadershipEndedError(reason));
    this.announce(messages.lostLeadership(this.name, leadership.term, reason));
    this.options.onChange({
      name: this.name,
      nodeId: this.options.nodeId,
      isMaster: false,
      term: leadership.term,
      reason,
    });
    return leadership;
  }

  /** Lost without giving up: contend again as a follower. */
  private lose(reason: 'expired' | 'lost'): void {
    const leadership = this.stepDown(reason);
    if (!leadership) return;
    // Expired on this node's clock, the lease may still stand in Redis (a late renewal): free it.
    if (reason === 'expired') void this.release(leadership.lease, false);
    if (this.state === 'running') this.schedule('acquire', jittered(this.timing.retryEvery));
  }

  /** Deletes `lease` if it still holds the election. Never throws: the lease ends by its TTL anyway. */
  private async release(lease: string, report = true): Promise<void> {
    try {
      await this.callStore('release', this.timing.renewEvery, (store) =>
        store.release(this.name, lease),
      );
    } catch (error) {
      if (report) this.failed('release', error);
    }
  }

  /** A store command with a deadline; a store that throws instead of rejecting is caught too. */
  private callStore<T>(
    action: string,
    ms: number,
    command: (store: KettleStore) => Promise<T>,
  ): Promise<T> {
    return withTimeout(
      Promise.resolve().then(() => command(this.options.store)),
      ms,
      action,
    );
  }

  private schedule(timer: TimerName, ms: number): void {
    this.clear(timer);
    const handle = setTimeout(
      () => {
        this.timers.delete(timer);
        const step =
          timer === 'acquire'
            ? this.acquire()
            : timer === 'renew'
              ? this.renew()
              : timer === 'tick'
                ? this.tick()
                : this.lose('expired');
        // Nothing in a step should throw; if something does (a logger, a listener), say so and go on.
        Promise.resolve(step).catch((error: unknown) =>
          this.options.logger.error(
            messages.stepFailed(this.name, describeError(error)),
            stackOf(error),
          ),
        );
      },
      Math.max(0, ms),
    );
    this.timers.set(timer, handle);
  }

  private clear(timer: TimerName): void {
    clearTimeout(this.timers.get(timer));
    this.timers.delete(timer);
  }

  private announce(message: string): void {
    if (this.options.verbose) this.options.logger.log(message);
    else this.options.logger.debug(message);
  }

  /** Store faults are logged once each until they change or heal, not on every retry. */
  private failed(action: string, error: unknown): void {
    this.stats.storeErrors++;
    const message = messages.storeError(this.name, action, describeError(error));
    if (message === this.lastError) return this.options.logger.debug(message);
    this.lastError = message;
    this.options.logger.warn(message);
  }

  private succeeded(): void {
    if (this.lastError) this.options.logger.log(messages.storeRecovered(this.name));
    this.lastError = undefined;
  }
}
