import type { ElectionCounters } from '../interfaces/election-stats.interface.js';
import { zeroCounters } from './election-counters.js';
import type { KettleLogger } from '../interfaces/kettle-options.interface.js';
import type {
  LeadershipChange,
  StepDownReason,
} from '../interfaces/leadership-change.interface.js';
import type { MasterContext } from '../interfaces/master-context.interface.js';
import type { RunOutcome } from '../interfaces/run-observer.interface.js';
import * as messages from '../kettle.messages.js';
import type {
  AcquireResult,
  KettleStore,
  RunClaim,
  RunClaimAnswer,
  SlotClaim,
} from '../store/kettle-store.interface.js';
import { connectionOf, newLease } from '../store/lease.js';
import type { ElectionConfig } from './election-config.js';
import { ElectionLog } from './election-log.js';
import { ClaimRound } from './claim-round.js';
import { LeadershipEndedError } from '../errors.js';
import { catchRejection } from '../utils/thrown-values.js';
import { type Clock, systemClock } from '../utils/clock.js';
import { guardedLogger } from './guarded-logger.js';
import { JobRunner } from './job-runner.js';
import { Timers } from './timers.js';
import { TimerWheel } from '../utils/timer-wheel.js';
import { LatencyWindow, RENEW_LATENCY_WINDOW } from './latency-window.js';
import { LeadershipHooks } from './leadership-hooks.js';
import { BALANCE_DEFER_MS, type ElectionTiming, jittered } from './timing.js';
import { StoreClock } from './store-clock.js';
import { CLOCK_OFFSET_ALLOWANCE_MS, recentSlotsMs, slotGraceMs } from './schedule.js';
import type { FiringSlots } from './firing-slots.interface.js';
import { settlesWithin, type ShutdownDeadline, withTimeout } from '../utils/promise-timeout.js';

/**
 * Where one election stands on this node (`Election.phase`). Each phase is a combination of
 * three fields: `lifecycle`, `leadership` (and its `resigning` flag), and `acquiring`.
 *
 *   phase      lifecycle  leadership         acquiring  what goes on
 *   idle       idle       -                  -          nothing: start() was not called
 *   follower   running    -                  -          the acquire timer is set (after a resign,
 *                                                       no attempt before `holdOffUntil`)
 *   acquiring  running    -                  set        an acquire is on its way (a release heard
 *                                                       meanwhile: try again as soon as it answers)
 *   master     running    set                -          renew, expire and tick timers; runs start
 *   draining   running    set, resigning     -          renew and expire only: the runs end, then
 *              stopping   set                -          the lease is released
 *   stopping   stopping   -                  maybe      the acquire or claim on its way is awaited
 *   stopped    stopped    -                  -          no timer; releases and @OnRevoked finish
 *
 *   idle       -- start() ------------------------------------------> follower
 *   follower   -- acquire timer; a release or a reconnect heard -----> acquiring
 *   acquiring  -- held (retry as the holder's lease ends), failed ---> follower
 *   acquiring  -- acquired: becomeMaster ----------------------------> master
 *   master     -- resign(): handOver lets the runs end --------------> draining
 *   draining   -- runs ended: stepDown, release, hold off -----------> follower
 *   master, draining -- expire timer (no renewal by the deadline), or
 *                       a renew or claim finds another holder: lose --> follower
 *   any        -- stop(): stopRuns, drain, stepDown ---> stopping or draining -> stopped
 *
 * `isMaster` is true in master and draining while the deadline has not passed on this node's
 * clock: a blocked event loop can outlive the deadline before the expire timer runs.
 */
export type ElectionPhase =
  'idle' | 'follower' | 'acquiring' | 'master' | 'draining' | 'stopping' | 'stopped';

/** The lease this node holds, measured on its own monotonic clock. */
interface Leadership {
  readonly lease: string;
  readonly term: number;
  /** When this node stops being master on its own clock: when the last acquire or renew was sent, plus the renew deadline. */
  deadline: number;
  readonly controller: AbortController;
  /** What the jobs and handlers of this leadership are given: one object, built on first use. */
  context?: MasterContext;
  /** Set by resign(), before anything aborts: this leadership starts no more runs, and ends once they have. */
  resigning?: boolean;
  /** Settles once this leadership ended here and its lease was released (or no release was due). */
  readonly released: Promise<void>;
  readonly markReleased: () => void;
  /**
   * When the store last reconnected, until a renewal sent after it answers: the lease may be gone
   * (Redis restarted empty, another server behind the address), so no run starts meanwhile.
   */
  reconnectedAt?: number;
  /** crashDetection: this node's signal is down, and the lease may be taken over at any poll. */
  signalDown?: boolean;
  /** A tick found too little lease left to claim (or a reconnect unconfirmed): it ticks again once a renewal lands. */
  tickAfterRenewal?: boolean;
  /** What each claim of a run sends: the same every interval of this leadership. */
  runClaim?: RunClaim;
}

/** A claim of a run on its way (interval schedule): a stop waits for its answer. */
interface ClaimInFlight {
  readonly leadership: Leadership;
  readonly sentAt: number;
  /** A later leadership whose tick found this claim still out: it ticks once this is answered. */
  passedOver?: Leadership;
  /** Made when a stop or resign waits for the answer; none per claim otherwise. */
  answered?: Promise<void>;
  settle?: () => void;
}

/** An acquire on its way. */
interface AcquireAttempt {
  done: Promise<void>;
  /** A release was announced meanwhile: if refused, this attempt tries again at once. */
  contendAgain: boolean;
}

/** The longest a cron tick waits: the next slot is looked at again at least this often. */
const MAX_SLOT_WAIT_MS = 60_000;
/** The longest a claim waits for a slot the store finds early (this node's clock ahead). */
const MAX_EARLY_WAIT_MS = 2 * CLOCK_OFFSET_ALLOWANCE_MS;

type TimerName = 'acquire' | 'renew' | 'expire' | 'tick';

/** Why a master gives its lease up while it goes on: asked to (`resign()`), or by `balance`. */
export type HandOverReason = Extract<StepDownReason, 'resigned' | 'rebalanced'>;

/** Of a drain's time, what a run that started during it keeps to finish once its signal aborts. */
const LATE_RUN_ABORT_SHARE = 0.25;

/**
 * One election on this node, in the shape of client-go's leaderelection loop (phases above). A
 * follower tries to acquire when the holder's lease should have ended and whenever a release is
 * announced; a master renews every third of its lease and steps down on its own clock when the
 * deadline passes unrenewed, whatever Redis is doing.
 *
 * The class reads in the order of a leadership: start, follower, master (renew, tick, claim),
 * step down and release, stop; then the ways in for the testing module and the schedule guard.
 */
export class Election {
  readonly stats: ElectionCounters = zeroCounters();
  /** Round trips of the commands that extended the lease. */
  readonly renewLatency = new LatencyWindow(RENEW_LATENCY_WINDOW);
  /** @internal The user's logger, safe to call (its failures count here); the schedule guard's too. */
  readonly logger: KettleLogger;

  // The phase (see ElectionPhase).
  private lifecycle: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  private leadership?: Leadership;
  private acquiring?: AcquireAttempt;

  // What the follower keeps between attempts.
  /** A lease value the store refused, kept for the next attempt (random tokens cost CPU at scale). */
  private unusedLease?: string;
  /** After resigning, this node lets the others take the lease first. */
  private holdOffUntil = 0;
  /** The acquire timer is set for when the holder's lease ends: `balance` is asked then. */
  private deferWhenDue = false;
  /**
   * The holder's connection closed (crashDetection), as seen on this node's connection of that
   * number: the next attempt may take its lease over.
   */
  private takeOverOn?: number;

  // What the master keeps across ticks.
  /** A cron tick's claim on its way and the start of its run: a stop waits for it, so that a won slot runs. */
  private ticking?: Promise<void>;
  /** The leadership whose cron tick `ticking` is. */
  private tickingFor?: Leadership;
  /** An interval's claim on its way, in the node's claim round: a stop waits for it too. */
  private claimInFlight?: ClaimInFlight;
  private readonly claims: ClaimRound;
  /**
   * The latest slot of the cron schedule this node knows to be claimed (by any node) or given up:
   * no slot up to it is claimed again. The store has the last word; this spares it the asking.
   */
  private lastSlot?: number;
  /** The store's clock, on which cron slots are read. */
  private readonly storeClock: StoreClock;
  /** Set while this node's clock is off the store's by more than the allowance (warned once). */
  private clockOffWarned = false;
  /**
   * Per guarded method, the latest slot this node claimed to run: where the store answers a claim
   * by the same term 'run' again (sameTermReclaims: so that a slot marked but not run is not
   * lost), a second firing of one slot here is refused here.
   */
  private readonly firedSlots = new Map<string, number>();
  /** The slot a guarded firing just claimed, per method: its run's `scheduledAt`. */
  private readonly claimedFiringSlots = new Map<string, number>();
  /** The disagreements on the schedule already warned of: once each. */
  private readonly scheduleMismatches = new Set<string>();

  // What a stop waits for.
  /** What stop() returns: one shutdown, however often it is called. */
  private stopped?: Promise<void>;
  /** Releases on their way: a stop waits for them before the store closes. */
  private readonly releases = new Set<Promise<void>>();
  private readonly unsubscribers: Array<() => void> = [];

  private readonly clock: Clock;
  /** The clock with the wheel's timers: a command's timeout, one per command, is one of them. */
  private readonly commandClock: Clock;
  private readonly timers: Timers<TimerName>;
  private readonly log: ElectionLog;
  private readonly runner: JobRunner;
  private readonly hooks: LeadershipHooks;

  constructor(private readonly options: ElectionConfig) {
    this.clock = options.clock ?? systemClock;
    this.logger = guardedLogger(options.logger, this.stats);
    this.storeClock = new StoreClock(this.clock);
    const wheel = options.timerWheel ?? new TimerWheel(this.clock, 0);
    this.commandClock = wheel.asClock();
    this.claims = options.claimRound ?? new ClaimRound(options.store, this.commandClock);
    this.log = new ElectionLog(
      options.name,
      this.logger,
      options.verbose,
      this.stats,
      options.groupedLines,
    );
    this.timers = new Timers<TimerName>(
      {
        acquire: () => this.acquire(),
        renew: () => this.renew(),
        expire: () => this.lose('expired'),
        tick: () => this.tick(),
      },
      (error) => this.log.stepFailed(error),
      wheel,
    );
    this.runner = new JobRunner(
      options.jobs,
      this.stats,
      this.logger,
      this.clock,
      options.runObservers,
    );
    const { name, onElected = [], onRevoked = [] } = options;
    this.hooks = new LeadershipHooks(
      name,
      onElected,
      onRevoked,
      this.logger,
      this.stats,
      this.clock,
    );
  }

  get name(): string {
    return this.options.name;
  }

  get timing(): ElectionTiming {
    return this.options.timing;
  }

  /** Where this election stands: see ElectionPhase. */
  get phase(): ElectionPhase {
    const { lifecycle, leadership } = this;
    if (lifecycle === 'idle' || lifecycle === 'stopped') return lifecycle;
    if (leadership) return lifecycle === 'running' && !leadership.resigning ? 'master' : 'draining';
    if (lifecycle === 'stopping') return 'stopping';
    return this.acquiring ? 'acquiring' : 'follower';
  }

  /** True only while this node holds a lease that has not ended on its own clock. */
  get isMaster(): boolean {
    return this.leadership !== undefined && this.clock.now() < this.leadership.deadline;
  }

  get term(): number | undefined {
    return this.isMaster ? this.leadership?.term : undefined;
  }

  /** A job of this election runs on this node now. */
  get busy(): boolean {
    return this.runner.busy;
  }

  /** Milliseconds of lease left on this node's clock; 0 when not master. */
  get leaseLeft(): number {
    return this.leadership ? Math.max(0, this.leadership.deadline - this.clock.now()) : 0;
  }

  // ---- idle -> follower ------------------------------------------------------------------------

  start(): void {
    if (this.lifecycle !== 'idle') return;
    this.lifecycle = 'running';
    const { store } = this.options;
    this.unsubscribers.push(
      store.onReleased((name) => name === this.name && this.contendNow(), this.name),
    );
    // A store that is (re)connecting will say when it can answer: contend at once then, not on the
    // next retry; a master renews at once, as its lease may not have survived what broke the link.
    if (store.onConnected) {
      this.unsubscribers.push(store.onConnected(() => this.reconnected()));
    }
    const { crashWatch } = this.options;
    if (crashWatch) this.unsubscribers.push(crashWatch.onSignal((up) => this.signalChanged(up)));
    const { retryEvery } = this.timing;
    if (store.connected === false) return this.contendIn(jittered(retryEvery));
    const spread = this.options.turnSpread?.delayMs(retryEvery) ?? 0;
    this.contendIn(spread + this.deferral());
  }

  private reconnected(): void {
    const leadership = this.leadership;
    if (!leadership) return this.contendNow(true);
    leadership.reconnectedAt = this.clock.now();
    this.timers.set('renew', 0);
  }

  /**
   * crashDetection: while this node's signal is down, a follower may take a lease that carries its
   * token over at any poll. The master then renews at once and four times a poll, and its deadline
   * is half a poll past the last renewal confirmed: it learns of a takeover, or steps down when it
   * cannot ask, within half a poll, and a run in flight is aborted then (no run starts meanwhile:
   * claims are refused). Once the signal is back, it renews once more, as after a reconnect.
   */
  private signalChanged(up: boolean): void {
    const leadership = this.leadership;
    if (!leadership || connectionOf(leadership.lease) === undefined) return;
    if (!up) return this.signalLost(leadership);
    leadership.signalDown = false;
    this.reconnected();
  }

  private signalLost(leadership: Leadership): void {
    leadership.signalDown = true;
    const now = this.clock.now();
    leadership.deadline = Math.min(leadership.deadline, now + this.whileSignalDown().deadlineMs);
    this.timers.set('expire', leadership.deadline - now);
    this.timers.set('renew', 0);
  }

  /** How often a master renews, and how far its deadline reaches, while its signal is down. */
  private whileSignalDown(): { renewMs: number; deadlineMs: number } {
    const { renewEvery, renewDeadline } = this.timing;
    const pollMs = this.options.crashWatch?.pollMs ?? renewEvery;
    return {
      renewMs: Math.min(renewEvery, pollMs / 4),
      deadlineMs: Math.min(renewDeadline, pollMs / 2),
    };
  }

  // ---- follower -> acquiring -> master or follower ---------------------------------------------

  /** `spread`: one of many elections that start contending together (a reconnect). */
  private contendNow(spread = false): void {
    if (this.lifecycle !== 'running' || this.leadership || this.clock.now() < this.holdOffUntil)
      return;
    // An attempt on its way may already have been told "held": try again right after it.
    if (this.acquiring) return void (this.acquiring.contendAgain = true);
    // Thousands reconnected at once contend over up to a second, the first at once: one answer
    // for all of them would not be read within its timeout. A release heard is taken at once.
    const delay = spread ? this.options.turnSpread?.delayMs(this.timing.retryEvery) : 0;
    this.contendIn((delay ?? 0) + this.deferral());
  }

  /**
   * @internal The crash watch's: the holder's connections closed. Contend as when its lease ends
   * (after what `balance` says), and let the attempt take the lease over.
   */
  takeOver(connection: number): void {
    if (this.lifecycle !== 'running' || this.leadership) return;
    this.takeOverOn = connection;
    if (this.acquiring) return void (this.acquiring.contendAgain = true);
    this.contendIn(0, true);
  }

  /**
   * With `balance`, a node that leads its share already lets the others try first: it contends
   * this much later (never more than a retry period), so the lease goes to a node under its share.
   */
  private deferral(): number {
    const { balance } = this.options;
    return balance ? Math.min(balance.deferMs(this.name), this.timing.retryEvery) : 0;
  }

  /** Sets the acquire timer; `thenDefer`: when it fires, wait what `balance` says first. */
  private contendIn(ms: number, thenDefer = false): void {
    this.deferWhenDue = thenDefer;
    this.timers.set('acquire', ms);
  }

  private acquire(): Promise<void> {
    if (this.lifecycle !== 'running' || this.leadership) return Promise.resolve();
    const deciding = this.options.crashWatch?.deciding;
    if (deciding) return deciding.then(() => this.acquire());
    if (this.deferWhenDue) {
      this.deferWhenDue = false;
      const deferMs = this.deferral();
      if (deferMs > 0) return Promise.resolve(this.contendIn(deferMs));
    }
    if (!this.acquiring) {
      const attempt: AcquireAttempt = { done: Promise.resolve(), contendAgain: false };
      this.acquiring = attempt;
      attempt.done = this.tryAcquire(attempt)
        .catch((error: unknown) => this.log.stepFailed(error))
        .finally(() => {
          this.acquiring = undefined;
        });
    }
    return this.acquiring.done;
  }

  private async tryAcquire(attempt: AcquireAttempt): Promise<void> {
    const { leaseTtl, retryEvery, renewEvery } = this.timing;
    const { crashWatch, store } = this.options;
    const token = crashWatch?.token();
    // A value that was only ever refused ("held") never held the lease: it may be offered again,
    // unless this node's connection token changed meanwhile.
    let lease = this.unusedLease;
    if (lease === undefined || (crashWatch && connectionOf(lease) !== token))
      lease = newLease(this.options.nodeId, leaseTtl, token);
    this.unusedLease = undefined;
    const takeOverOn = this.takeOverOn;
    this.takeOverOn = undefined;
    const signal = takeOverOn === undefined ? undefined : store.connectionSignal;
    const sentAt = this.clock.now();
    let result: AcquireResult;
    try {
      result = await this.callStore('acquire', renewEvery, (store) =>
        signal
          ? signal.takeOver(this.name, lease, leaseTtl, takeOverOn!)
          : store.acquire(this.name, lease, leaseTtl),
      );
    } catch (error) {
      this.log.storeFailed('acquire', error);
      // The outcome is unknown: the lease may be ours. Delete it rather than make others wait it out.
      void this.release(lease, false);
      // An answer after a stop began arms nothing: no timer outlives stop().
      if (this.lifecycle === 'running') this.contendIn(jittered(retryEvery));
      return;
    }
    this.log.storeAnswered();
    // A stop may have come while it was on its way: a stopped election follows nothing.
    if (this.lifecycle === 'running')
      crashWatch?.follow(this, result.acquired ? undefined : result.lease);
    if (!result.acquired) this.unusedLease = lease;
    if (result.acquired) {
      if (result.tookOver) this.stats.takeovers++;
      // Stopped while the acquire was on its way: give it straight back.
      if (this.lifecycle !== 'running') return this.release(lease);
      return this.becomeMaster(lease, result.term, sentAt);
    }
    // Look again just after the holder's lease would end unrenewed: no sooner can it be free
    // (a release is announced, and heard at once). Polling on a shorter period only costs Redis.
    const ends = result.ttlMs >= 0 ? result.ttlMs + 1 + Math.random() * 10 : jittered(retryEvery);
    // Released meanwhile: contend now. Else when the holder's lease ends, and only then ask
    // `balance` how much later: its view of the fleet may have changed by then.
    if (this.lifecycle === 'running')
      this.contendIn(attempt.contendAgain ? this.deferral() : ends, !attempt.contendAgain);
  }

  // ---- master: renew ---------------------------------------------------------------------------

  private becomeMaster(lease: string, term: number, sentAt: number): void {
    const { leaseTtl, renewDeadline, renewEvery } = this.timing;
    let markReleased!: () => void;
    const released = new Promise<void>((resolve) => (markReleased = resolve));
    const leadership: Leadership = {
      lease,
      term,
      deadline: sentAt + renewDeadline,
      controller: new AbortController(),
      released,
      markReleased,
    };
    this.leadership = leadership;
    this.takeOverOn = undefined;
    this.stats.elected++;
    this.timers.setAt('expire', leadership.deadline);
    this.timers.setAt('renew', sentAt + renewEvery);
    // Won with a token whose channel closed while the acquire was on its way.
    const token = connectionOf(lease);
    if (token !== undefined && this.options.crashWatch?.token() !== token)
      this.signalLost(leadership);
    // The first run waits for the @OnElected handlers (at most a lease), so that what they prepare
    // is ready for it. Only the tick waits: the renew and expire timers above run meanwhile.
    void this.hooks.elected(this.contextOf(leadership), leaseTtl).then(() => {
      if (!this.startsRuns(leadership) || !this.runner.hasJobs) return;
      this.timers.set('tick', this.options.turnSpread?.delayMs(this.timing.interval) ?? 0);
    });
    // Told last: everything above is in place whatever a listener does.
    this.log.announce(messages.tookLeadership(this.name, term));
    this.notify({ name: this.name, nodeId: this.options.nodeId, isMaster: true, term });
  }

  private async renew(): Promise<void> {
    const leadership = this.leadership;
    if (!leadership) return;
    const { leaseTtl, renewEvery } = this.timing;
    const sentAt = this.clock.now();
    try {
      const renewed = await this.callStore(
        'renew',
        Math.min(renewEvery, leadership.deadline - sentAt),
        (store) => store.renew(this.name, leadership.lease, leaseTtl),
      );
      this.renewLatency.record(this.clock.now() - sentAt);
      if (this.leadership !== leadership) {
        // Renewed after this node stepped down: hand the lease back rather than leave it orphaned.
        if (renewed) void this.release(leadership.lease, false);
        return;
      }
      this.log.storeAnswered();
      if (!renewed) return this.lose('lost');
      if (sentAt >= (leadership.reconnectedAt ?? Infinity)) leadership.reconnectedAt = undefined;
      this.extended(leadership, sentAt);
      if (leadership.tickAfterRenewal) {
        leadership.tickAfterRenewal = false;
        if (this.startsRuns(leadership)) this.timers.set('tick', 0);
      }
    } catch (error) {
      if (this.leadership !== leadership) return;
      this.log.storeFailed('renew', error);
      // Try again soon; the expire timer steps down if no renewal lands before the deadline.
      this.timers.set('renew', Math.min(renewEvery / 2, leadership.deadline - this.clock.now()));
    }
  }

  /** The lease was extended by a command sent at `sentAt`: move the deadline and the next renewal. */
  private extended(leadership: Leadership, sentAt: number): void {
    const { renewDeadline, renewEvery } = this.timing;
    const down = leadership.signalDown ? this.whileSignalDown() : undefined;
    leadership.deadline = sentAt + (down?.deadlineMs ?? renewDeadline);
    this.timers.setAt('expire', leadership.deadline);
    // An answer to a command sent before a reconnect confirms nothing: the renewal that does goes now.
    if (leadership.reconnectedAt !== undefined) this.timers.set('renew', 0);
    else this.timers.setAt('renew', sentAt + (down?.renewMs ?? renewEvery));
  }

  /**
   * A claim renews the lease: when the next one is due about when the renewal would be, the
   * renewal waits a little past it, and is then put off again by that claim. One command per
   * interval instead of two; the renewal still comes by half the lease if the claim does not.
   */
  private renewAfterTick(sentAt: number, nextTickIn: number): void {
    // While the signal is down, the renewals keep their own pace (signalLost).
    if (this.leadership?.signalDown) return;
    const { renewEvery } = this.timing;
    const tickAt = this.clock.now() + nextTickIn;
    const latest = sentAt + renewEvery * 1.5;
    if (tickAt < latest) this.timers.setAt('renew', Math.min(tickAt + renewEvery / 4, latest));
  }

  // ---- master: tick and claim ------------------------------------------------------------------

  /** This leadership may start runs: it is current, and neither stopping nor resigning. */
  private startsRuns(leadership: Leadership): boolean {
    return this.leadership === leadership && this.lifecycle === 'running' && !leadership.resigning;
  }

  /** One tick of the master's cadence; a stop or a resign waits for the one in flight. */
  private tick(): void {
    if (!this.options.cron) return this.claimRun();
    const leadership = this.leadership;
    if (this.ticking) {
      // An earlier leadership's tick is still out: this one ticks once it is done.
      if (leadership && this.tickingFor !== leadership)
        void this.ticking.then(() => this.tickIfLeading(leadership));
      return;
    }
    this.tickingFor = leadership;
    this.ticking = this.claimSlotAndRun().then(
      () => {
        this.ticking = undefined;
      },
      (error: unknown) => {
        this.ticking = undefined;
        this.log.stepFailed(error);
      },
    );
  }

  /** Ticks now if `leadership` still leads and starts runs: its own tick was passed over. */
  private tickIfLeading(leadership: Leadership): void {
    if (this.leadership === leadership && this.startsRuns(leadership)) this.timers.set('tick', 0);
  }

  /** Settles once the tick in flight, if any, has its answer and started its run. */
  private tickAnswered(): Promise<void> | undefined {
    if (this.ticking) return this.ticking;
    const claim = this.claimInFlight;
    if (!claim) return undefined;
    return (claim.answered ??= new Promise((resolve) => (claim.settle = resolve)));
  }

  /**
   * Too little lease left to claim: a claim answered after the deadline would have marked a slot
   * that never runs. Renews now and ticks as soon as the renewal lands (a tick half a renewal
   * period later makes 14 % of intervals late at 10,000 elections on a busy event loop); the tick
   * timer set here is for a renewal that fails. True when the claim must wait.
   */
  private renewFirstWhenShort(leadership: Leadership): boolean {
    const { safetyMargin, renewEvery } = this.timing;
    if (leadership.deadline - this.clock.now() >= safetyMargin) return false;
    leadership.tickAfterRenewal = true;
    this.timers.set('renew', 0);
    this.timers.set('tick', renewEvery / 2);
    return true;
  }

  /** Claims the slot in the store, in the node's round of claims; `claimAnswered` runs it. */
  private claimRun(): void {
    const leadership = this.leadership;
    if (!leadership || !this.startsRuns(leadership)) return;
    if (this.claimInFlight) {
      // An earlier leadership's claim is still out: this one ticks once it is answered.
      if (this.claimInFlight.leadership !== leadership) this.claimInFlight.passedOver = leadership;
      return;
    }
    const { interval, leaseTtl } = this.timing;
    // Reconnected: the renewal already on its way says whether the lease survived; tick after it.
    if (leadership.reconnectedAt !== undefined) {
      leadership.tickAfterRenewal = true;
      return;
    }
    if (this.runner.busy) {
      this.stats.skippedTicks++;
      this.logger.debug(messages.runSkipped(this.name));
      return this.timers.set('tick', interval);
    }
    if (this.renewFirstWhenShort(leadership)) return;
    const sentAt = this.clock.now();
    this.claimInFlight = { leadership, sentAt };
    leadership.runClaim ??= {
      name: this.name,
      lease: leadership.lease,
      intervalMs: interval,
      ttlMs: leaseTtl,
    };
    this.claims.add(leadership.runClaim, leadership.deadline, this);
  }

  /** @internal The claim round's answer to this election's claim. */
  claimAnswered(answer: RunClaimAnswer): void {
    const claim = this.claimInFlight;
    if (!claim) return;
    this.claimInFlight = undefined;
    try {
      this.claimed(claim.leadership, claim.sentAt, answer);
    } catch (error) {
      this.log.stepFailed(error);
    } finally {
      claim.settle?.();
    }
    if (claim.passedOver) this.tickIfLeading(claim.passedOver);
  }

  private claimed(leadership: Leadership, sentAt: number, claim: RunClaimAnswer): void {
    if (this.leadership !== leadership) return;
    if (claim.outcome === 'failed') {
      this.log.storeFailed('claim run', claim.error);
      if (this.startsRuns(leadership)) this.timers.set('tick', this.timing.renewEvery / 2);
      return;
    }
    this.renewLatency.record(this.clock.now() - sentAt);
    this.log.storeAnswered();
    if (claim.outcome === 'not-holder') return this.lose('lost');
    // The claim renewed the lease as well: the next renewal can wait.
    this.extended(leadership, sentAt);
    const nextTick = claim.outcome === 'wait' ? claim.waitMs : claim.nextInMs;
    // Stopping or resigning since the claim left: no more claims...
    if (this.startsRuns(leadership)) {
      this.timers.set('tick', nextTick);
      this.renewAfterTick(sentAt, nextTick);
    }
    if (claim.outcome === 'wait') return;
    // ...but the slot this one won is run (and drained): it is marked, no other node will run it.
    if (leadership.deadline - this.clock.now() >= this.timing.safetyMargin)
      void this.runner.start(this.runContext(leadership, claim.slotMs ?? this.clock.wallNow()));
  }

  /**
   * A tick of a cron schedule: claims the slot due on this node's clock (CronSchedule.dueSlot);
   * the store refuses it while it is still in the future on its own clock (this node's runs
   * ahead), or when it ran already, and decides whether a late one is caught up. Then looks again
   * at the next slot.
   */
  private async claimSlotAndRun(): Promise<void> {
    const leadership = this.leadership;
    const cron = this.options.cron;
    if (!leadership || !cron || !this.startsRuns(leadership)) return;
    const { safetyMargin, renewEvery, leaseTtl } = this.timing;
    if (leadership.reconnectedAt !== undefined) {
      leadership.tickAfterRenewal = true;
      return;
    }
    const { schedule, catchUp } = cron;
    const readOnNodeClock = !this.storeClock.measured;
    const slot = schedule.dueSlot(this.storeClock.now(), this.lastSlot);
    if (slot === undefined) return this.tickAtNextSlot(leadership);
    if (this.runner.busy) {
      // Runs never overlap: the slot waits for the run to end, and runs then if still in its
      // grace (the store decides), so that a run a little longer than the period loses nothing.
      this.stats.skippedTicks++;
      this.logger.debug(messages.runSkipped(this.name));
      void this.runner.ended.then(() => {
        if (this.startsRuns(leadership)) this.timers.set('tick', 0);
      });
      return;
    }
    if (this.renewFirstWhenShort(leadership)) return;
    const sentAt = this.clock.now();
    try {
      const claim = await this.callStore('claim slot', leadership.deadline - sentAt, (store) =>
        store.claimSlot!(this.name, leadership.lease, slot, leaseTtl, {
          term: leadership.term,
          graceMs: slotGraceMs(renewEvery),
          catchUp: catchUp === 'latest',
          keepMs: schedule.keepMs(slot),
          schedule: schedule.identity,
        }),
      );
      this.renewLatency.record(this.clock.now() - sentAt);
      if (this.leadership !== leadership) return;
      this.log.storeAnswered();
      if (claim.outcome === 'not-holder') return this.lose('lost');
      this.extended(leadership, sentAt);
      this.observeStoreClock(sentAt, claim);
      this.warnIfScheduleDiffers(claim, schedule.identity);
      const startable = leadership.deadline - this.clock.now() >= safetyMargin;
      if (claim.outcome === 'early') {
        // Read on a clock ahead of the store's (a first claim, or one just stepped). With the
        // store's clock now known, the slots due there come first (an earlier one may be due);
        // else wait for the slot, but look again soon.
        if (!this.startsRuns(leadership)) return;
        if (claim.storeNowMs !== undefined) return this.tickAtNextSlot(leadership, sentAt);
        return this.timers.set('tick', Math.min(claim.waitMs, MAX_EARLY_WAIT_MS));
      }
      // A slot won on this node's own clock (its first claim) that the answer shows was off: a
      // later slot is due on the store's clock, and missed slots collapse into the latest. A slot
      // read on the store's clock runs as granted, however long the claim took to get there.
      const superseded =
        readOnNodeClock &&
        claim.outcome === 'run' &&
        claim.storeNowMs !== undefined &&
        schedule.dueSlot(claim.storeNowMs, slot) !== undefined;
      if (claim.outcome === 'already-ran') {
        this.lastSlot = Math.max(this.lastSlot ?? claim.lastSlotMs, claim.lastSlotMs);
      } else if (superseded) {
        this.lastSlot = slot;
        this.stats.lateSlots++;
        this.logger.debug(messages.slotSuperseded(this.name, new Date(slot).toISOString()));
      } else if (claim.outcome === 'late' || startable) {
        // A slot won with too little lease left to start stays due: the next tick (after a
        // renewal) claims it again, and this term's claim of it is answered 'run' again.
        this.lastSlot = slot;
        if (claim.outcome === 'late') {
          this.stats.lateSlots++;
          // A slot of the last few seconds is looked at in passing (a first deploy, a hand-over):
          // only one missed for longer is worth a line.
          const line = messages.slotSkippedLate(
            this.name,
            new Date(slot).toISOString(),
            claim.lateMs,
          );
          if (claim.lateMs > recentSlotsMs(renewEvery)) this.logger.log(line);
          else this.logger.debug(line);
        }
      }
      // Stopping or resigning since the claim left: no more claims, but a won slot runs.
      if (this.startsRuns(leadership)) this.tickAtNextSlot(leadership, sentAt);
      if (claim.outcome === 'run' && startable && !superseded)
        void this.runner.start(this.runContext(leadership, slot));
    } catch (error) {
      if (this.leadership !== leadership) return;
      this.log.storeFailed('claim slot', error);
      if (this.startsRuns(leadership)) this.timers.set('tick', renewEvery / 2);
    }
  }

  /**
   * Ticks now if another slot is due, else at the next slot after the latest known one, on the
   * store's clock; at least once a minute, so that a wall clock that jumps (a VM resumed, an NTP
   * step) is followed.
   */
  private tickAtNextSlot(leadership: Leadership, claimSentAt?: number): void {
    const { schedule } = this.options.cron!;
    const clock = this.storeClock.now();
    const next =
      schedule.dueSlot(clock, this.lastSlot) ??
      schedule.nextAfter(Math.max(clock, this.lastSlot ?? clock));
    const inMs = Math.min(Math.max(0, next - clock), MAX_SLOT_WAIT_MS);
    if (!this.startsRuns(leadership)) return;
    this.timers.set('tick', inMs);
    if (claimSentAt !== undefined) this.renewAfterTick(claimSentAt, inMs);
  }

  /**
   * Reads the store's clock off a claim's answer (sent at `sentAt` on the monotonic clock). A
   * node whose wall clock is off by more than the allowance is warned about once, and again only
   * after it was back within it.
   */
  private observeStoreClock(sentAt: number, claim: SlotClaim): void {
    if (claim.outcome === 'not-holder' || claim.storeNowMs === undefined) return;
    this.storeClock.observe(sentAt, this.clock.now(), claim.storeNowMs);
    const offset = this.storeClock.offsetMs();
    const tooFar = Math.abs(offset) > CLOCK_OFFSET_ALLOWANCE_MS;
    if (tooFar && !this.clockOffWarned)
      this.logger.warn(messages.clockOff(this.name, offset, CLOCK_OFFSET_ALLOWANCE_MS));
    this.clockOffWarned = tooFar;
  }

  /**
   * The store recorded the last slot with a schedule read otherwise (another zone, say): the nodes
   * compute different slots. Warned once per disagreement, per guarded method (`key`) or not.
   */
  private warnIfScheduleDiffers(claim: SlotClaim, mine: string | undefined, key?: string): void {
    const theirs = claim.outcome === 'not-holder' ? undefined : claim.recordedSchedule;
    const seen = `${key ?? ''}\n${mine}\n${theirs}`;
    if (!theirs || !mine || this.scheduleMismatches.has(seen)) return;
    this.scheduleMismatches.add(seen);
    this.logger.warn(messages.scheduleMismatch(this.name, key, mine, theirs));
  }

  // ---- master: what a run is given -------------------------------------------------------------

  private contextOf(leadership: Leadership): MasterContext {
    leadership.context ??= this.newContext(leadership);
    return leadership.context;
  }

  /** The leadership's context, for the run of the slot at `slotMs`. */
  private runContext(leadership: Leadership, slotMs: number): MasterContext {
    return { ...this.contextOf(leadership), scheduledAt: new Date(slotMs) };
  }

  private newContext(leadership: Leadership): MasterContext {
    const { name, nodeId } = this.options;
    const { signal } = leadership.controller;
    // Reads the clock at the call: a timer that should have ended the lease may not have run yet.
    const leaseValid = () =>
      this.leadership === leadership && this.clock.now() < leadership.deadline;
    const throwIfLost = () => {
      if (leaseValid()) return;
      throw signal.aborted ? signal.reason : new LeadershipEndedError('expired');
    };
    const scheduledAt = new Date(this.clock.wallNow());
    return { name, nodeId, term: leadership.term, scheduledAt, signal, leaseValid, throwIfLost };
  }

  // ---- master -> follower: step down, resign, release ------------------------------------------

  /** Lost without giving up: contend again as a follower. */
  private lose(reason: 'expired' | 'lost'): void {
    const leadership = this.stepDown(reason);
    if (!leadership) return;
    // Expired on this node's clock, the lease may still stand in Redis (a late renewal): free it.
    if (reason === 'expired')
      void this.release(leadership.lease, false).finally(leadership.markReleased);
    else leadership.markReleased();
    if (this.lifecycle === 'running') this.contendIn(jittered(this.timing.retryEvery));
  }

  /**
   * Gives the lease up and lets another node take it; this node contends again later. As a stop
   * does, it starts no more runs and lets the running one end first (its signal aborts; at most
   * `drainMs`), renewing the lease meanwhile: no other node starts a run before it has ended, and
   * this node is master until then. Resolves once the lease was released, by this hand-over or by
   * whatever ended the leadership first (a stop, a loss); at once when not master.
   */
  resign(drainMs: number, reason: HandOverReason = 'resigned'): Promise<void> {
    const leadership = this.leadership;
    if (!leadership) return Promise.resolve();
    // Stopping: the stop drains and releases this leadership; resign() resolves with that.
    if (this.lifecycle === 'running' && !leadership.resigning) {
      leadership.resigning = true;
      void this.handOver(leadership, drainMs, reason).catch((error: unknown) =>
        this.log.stepFailed(error),
      );
    }
    return leadership.released;
  }

  private async handOver(
    leadership: Leadership,
    drainMs: number,
    reason: HandOverReason,
  ): Promise<void> {
    this.timers.clear('tick');
    const began = this.clock.now();
    const until = began + drainMs;
    await this.drain(leadership, reason, began, () => until - this.clock.now(), drainMs);
    // Lost meanwhile, or stopped: that step-down releases what there is to release.
    if (this.leadership !== leadership) return;
    this.stepDown(reason);
    if (this.lifecycle === 'running') {
      // A rebalanced lease is for a node under its share, which takes it within BALANCE_DEFER_MS:
      // should none, this node takes it back soon rather than leave it without a master.
      const { retryEvery } = this.timing;
      const holdOff =
        reason === 'rebalanced' ? Math.min(retryEvery, 2 * BALANCE_DEFER_MS) : retryEvery;
      this.holdOffUntil = this.clock.now() + holdOff;
      this.contendIn(jittered(holdOff));
    }
    await this.release(leadership.lease).finally(leadership.markReleased);
  }

  /** Ends this node's leadership locally: the signal aborts and isMaster turns false at once. */
  private stepDown(reason: StepDownReason): Leadership | undefined {
    const leadership = this.leadership;
    if (!leadership) return undefined;
    this.leadership = undefined;
    this.timers.clear('renew');
    this.timers.clear('expire');
    this.timers.clear('tick');
    this.stats.revoked++;
    leadership.controller.abort(new LeadershipEndedError(reason));
    const change: LeadershipChange = {
      name: this.name,
      nodeId: this.options.nodeId,
      isMaster: false,
      term: leadership.term,
      reason,
    };
    this.hooks.revoked(change);
    // Told last: a listener cannot undo the above, nor keep the caller from releasing the lease.
    this.log.announce(messages.lostLeadership(this.name, leadership.term, reason));
    this.notify(change);
    return leadership;
  }

  /**
   * Tells the listeners, each in turn: one that throws, or returns a promise that rejects, is
   * logged and counted, and changes nothing.
   */
  private notify(change: LeadershipChange): void {
    for (const listener of this.options.listeners) {
      try {
        catchRejection(listener(change), (error) => this.log.listenerFailed(error));
      } catch (error) {
        this.log.listenerFailed(error);
      }
    }
  }

  /**
   * Deletes `lease` if it still holds the election. Never rejects: the lease ends by its TTL anyway.
   * A stop waits for the releases on their way.
   */
  private release(lease: string, report = true, timeoutMs = this.timing.renewEvery): Promise<void> {
    const released = this.callStore('release', timeoutMs, (store) =>
      store.release(this.name, lease),
    ).then(
      () => undefined,
      (error: unknown) => {
        if (report) this.log.storeFailed('release', error);
      },
    );
    this.releases.add(released);
    void released.then(() => this.releases.delete(released));
    return released;
  }

  // ---- any -> stopping / draining -> stopped ---------------------------------------------------

  /**
   * Stops contending and starting runs (see `stopRuns`). A running job sees its signal abort and
   * gets what the deadline leaves to finish, while the lease is still renewed so that no other
   * node starts a run meanwhile; then the lease is released and the followers hear of it at once.
   */
  stop(deadline: ShutdownDeadline): Promise<void> {
    this.stopped ??= this.shutdown(deadline);
    return this.stopped;
  }

  private async shutdown(deadline: ShutdownDeadline): Promise<void> {
    const began = this.clock.now();
    await this.stopRuns(deadline);
    const leftMs = () => deadline.forWaits;
    await this.drain(this.leadership, 'shutdown', began, leftMs, deadline.timeoutMs);
    const leadership = this.stepDown('shutdown');
    this.lifecycle = 'stopped';
    this.timers.clearAll();
    // The lease goes at once, so that a follower takes over while the @OnRevoked handlers finish.
    const releaseMs = deadline.forRelease;
    if (leadership)
      void this.release(
        leadership.lease,
        true,
        Math.min(this.timing.renewEvery, releaseMs),
      ).finally(leadership.markReleased);
    await Promise.all([
      settlesWithin(Promise.all(this.releases), releaseMs, this.clock),
      this.hooks.drain(releaseMs, deadline.timeoutMs),
    ]);
  }

  /**
   * The first step of a stop: no more contending, no more runs; a held lease stays, renewed.
   * Resolves once the acquire and the claim in flight have answered (a claim that wins its slot
   * still starts the run), or when the deadline says.
   */
  private async stopRuns(deadline: ShutdownDeadline): Promise<void> {
    if (this.lifecycle === 'idle' || this.lifecycle === 'running') {
      this.lifecycle = 'stopping';
      for (const unsubscribe of this.unsubscribers.splice(0)) unsubscribe();
      this.options.crashWatch?.follow(this);
      this.timers.clear('acquire');
      this.timers.clear('tick');
    }
    const inFlight = [this.acquiring?.done, this.tickAnswered()].filter(
      (step) => step !== undefined,
    );
    if (inFlight.length > 0)
      await settlesWithin(Promise.all(inFlight), deadline.forWaits, this.clock);
  }

  /**
   * Lets the runs end before the leadership does. The claim in flight is awaited first: a slot it
   * wins still runs (no other node would run it). Then the signal aborts and the runs get what
   * `leftMs()` allows, while the lease is still renewed: no other node starts a run meanwhile.
   * A run that started after the stop or resign `began` (that claim's) is a slot like any other:
   * aborted at once, a job that checks its signal would skip it. It runs unaborted until only
   * `LATE_RUN_ABORT_SHARE` of the time is left, which it keeps to finish once asked to.
   */
  private async drain(
    leadership: Leadership | undefined,
    reason: HandOverReason | 'shutdown',
    began: number,
    leftMs: () => number,
    timeoutMs: number,
  ): Promise<void> {
    const ticking = this.tickAnswered();
    if (ticking) await settlesWithin(ticking, leftMs(), this.clock);
    if (this.runner.idle) return;
    if (this.runner.runStartedSince(began)) {
      const unaborted = Math.max(0, leftMs() * (1 - LATE_RUN_ABORT_SHARE));
      if (await this.runner.drain(unaborted)) return;
    }
    leadership?.controller.abort(new LeadershipEndedError(reason));
    if (!(await this.runner.drain(Math.max(0, leftMs())))) {
      const after = { resigned: 'resign()', rebalanced: 'a rebalance', shutdown: 'shutdown' }[
        reason
      ];
      this.logger.warn(messages.drainTimedOut(this.name, timeoutMs, after));
    }
  }

  // ---- the store -------------------------------------------------------------------------------

  /**
   * A store command with a deadline; a store that throws instead of rejecting is caught too. A
   * command with no answer in time is told to the store: its connection may be silently dead.
   */
  private callStore<T>(
    action: string,
    ms: number,
    command: (store: KettleStore) => Promise<T>,
  ): Promise<T> {
    const { store } = this.options;
    const sentAt = this.clock.now();
    let sent: Promise<T>;
    try {
      sent = Promise.resolve(command(store));
    } catch (error) {
      sent = Promise.reject(error);
    }
    return withTimeout(
      sent,
      ms,
      action,
      () => store.commandTimedOut?.(this.clock.now() - sentAt),
      this.commandClock,
    );
  }

  // ---- ways in: the testing module and the schedule guard --------------------------------------

  /**
   * @internal KettleElectionDriver's nudge: look at the lease now instead of at the next timer.
   * As master, renew now (a lost lease is noticed at once); as follower, try to acquire now, even
   * right after resigning. Both are what a timer would do later, so the loop's rules still hold.
   */
  checkLeaseNow(): void {
    if (this.lifecycle !== 'running') return;
    if (this.leadership) return this.timers.set('renew', 0);
    this.holdOffUntil = 0;
    this.contendNow();
  }

  /** @internal KettleElectionDriver.runOnce: the jobs once, now, outside the cadence. */
  runNow(): Promise<boolean> {
    const leadership = this.leadership;
    if (!leadership || !this.startsRuns(leadership) || !this.isMaster || !this.runner.hasJobs)
      return Promise.resolve(false);
    return this.runner.runAfterCurrent(this.runContext(leadership, this.clock.wallNow()), () =>
      this.startsRuns(leadership),
    );
  }

  /** @internal Resolves when the @OnElected and @OnRevoked handlers started so far have returned. */
  handlersSettled(): Promise<void> {
    return this.hooks.settled();
  }

  /**
   * @internal The schedule guard's way in: starts `run` if this node is master and starts runs
   * (not stopping nor resigning), and returns its promise (it must not reject), which `stop()`
   * waits for as for a job; else undefined.
   */
  startScheduledRun(run: () => Promise<unknown>): Promise<unknown> | undefined {
    const leadership = this.leadership;
    if (!leadership || !this.startsRuns(leadership) || !this.isMaster) return undefined;
    if (leadership.reconnectedAt !== undefined) return undefined;
    const running = run();
    this.runner.track(running);
    return running;
  }

  /**
   * @internal The schedule guard's run of a firing it claimed, `job` being the method: through the
   * run observers, as a job's run. `run` must not reject; nor does this.
   */
  observeScheduledRun(job: string, run: () => Promise<RunOutcome>): Promise<RunOutcome> {
    const leadership = this.leadership;
    const slot = this.claimedFiringSlots.get(job);
    this.claimedFiringSlots.delete(job);
    if (!leadership) return run();
    const { name, nodeId } = this.options;
    const scheduledAt = new Date(slot ?? this.clock.wallNow());
    return this.runner.observed({ name, nodeId, term: leadership.term, job, scheduledAt }, run);
  }

  /**
   * @internal The schedule guard's claim of a firing's slot, under `key` (the method): the same
   * owner check and start margin as a cron slot. 'run' when the body may run now; 'follower' when
   * this node does not hold the lease (any more); 'repeated' when the slot ran already (on any
   * node); 'late' when it is past its grace, the lease is too short to start, or the store's clock
   * is behind this node's by more than the allowance; 'failed' when the store did not answer.
   */
  async claimFiringSlot(
    key: string,
    slots: FiringSlots,
  ): Promise<'run' | 'follower' | 'repeated' | 'late' | 'failed'> {
    const { safetyMargin, renewEvery, leaseTtl } = this.timing;
    // A store without slot claims: every firing on the master runs, as it would unguarded.
    if (!this.options.store.claimSlot) return this.isMaster ? 'run' : 'follower';
    const slot = slots.slotAt(this.clock.wallNow());
    if (slot === undefined) return 'late';
    const firedBefore = this.firedSlots.get(key);
    // Only where the store would answer this term's second claim of the slot 'run' again.
    if (slots.sinceLastMs === undefined && this.options.store.sameTermReclaims) {
      if (slot <= (this.firedSlots.get(key) ?? -Infinity)) return 'repeated';
      // Taken before the claim leaves: a firing of the same slot meanwhile does not claim it too.
      this.firedSlots.set(key, slot);
    }
    for (;;) {
      const leadership = this.leadership;
      if (!leadership || !this.isMaster) return 'follower';
      if (leadership.deadline - this.clock.now() < safetyMargin) return 'late';
      const sentAt = this.clock.now();
      let claim: SlotClaim;
      try {
        claim = await this.callStore('claim slot', leadership.deadline - sentAt, (store) =>
          store.claimSlot!(this.name, leadership.lease, slot, leaseTtl, {
            term: leadership.term,
            graceMs: slots.graceMs(renewEvery),
            catchUp: false,
            keepMs: slots.keepMs(slot),
            key,
            sinceLastMs: slots.sinceLastMs,
            schedule: slots.schedule,
          }),
        );
      } catch (error) {
        if (this.leadership === leadership) this.log.storeFailed('claim slot', error);
        return 'failed';
      }
      this.renewLatency.record(this.clock.now() - sentAt);
      if (this.leadership !== leadership) return 'follower';
      this.log.storeAnswered();
      if (claim.outcome === 'not-holder') {
        this.lose('lost');
        return 'follower';
      }
      this.extended(leadership, sentAt);
      this.observeStoreClock(sentAt, claim);
      this.warnIfScheduleDiffers(claim, slots.schedule, key);
      if (claim.outcome === 'already-ran') return 'repeated';
      if (claim.outcome === 'late') return 'late';
      if (claim.outcome === 'run') {
        if (leadership.deadline - this.clock.now() >= safetyMargin && this.isMaster) {
          this.claimedFiringSlots.set(key, slot);
          return 'run';
        }
        // Won with too little lease left to start, so not run: a later firing of this slot may
        // claim it again (the store answers this term 'run' again).
        if (this.firedSlots.get(key) === slot) {
          if (firedBefore === undefined) this.firedSlots.delete(key);
          else this.firedSlots.set(key, firedBefore);
        }
        return 'late';
      }
      // Early on the store's clock: this node's clock is ahead; wait for the slot, within reason.
      if (claim.waitMs > MAX_EARLY_WAIT_MS) return 'late';
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, claim.waitMs));
    }
  }
}
