import { randomBytes } from 'node:crypto';
import { Election } from './election/election.js';
import { Balancer } from './election/balancer.js';
import { CrashWatch } from './election/crash-watch.js';
import { TurnSpread } from './election/turn-spread.js';
import { GroupedLines } from './election/grouped-lines.js';
import type { ElectionDeclaration } from './election/election-config.js';
import { electionStats } from './election/election-stats.js';
import { guardedLogger } from './election/guarded-logger.js';
import { electionTiming, TIMER_SLICE_MS } from './election/timing.js';
import type { ElectionStats } from './interfaces/election-stats.interface.js';
import type {
  ElectionOptions,
  KettleLogger,
  KettleOptions,
} from './interfaces/kettle-options.interface.js';
import type { LeadershipChange } from './interfaces/leadership-change.interface.js';
import type { MasterContext } from './interfaces/master-context.interface.js';
import type { RunObserver } from './interfaces/run-observer.interface.js';
import { checkElectionKeys, cronSchedule, resolveElection } from './options/election-options.js';
import { type ResolvedKettleOptions, resolveKettleOptions } from './options/resolve-options.js';
import { duration, nonEmptyString } from './options/validators.js';
import {
  alreadyJoined,
  balanceNeedsHeartbeat,
  crashDetectionFallsBack,
  crashDetectionUnsupported,
  cronNeedsClaimSlot,
  intervalAndCron,
  invalidOption,
  invalidRun,
  invalidRunObserver,
  duplicateNodeId,
  failFastGaveUp,
  failFastRefused,
  notJoined,
  redisConnectionError,
  shuttingDown,
  starting,
  storeMisconfigured,
  unknownElection,
} from './kettle.messages.js';
import { createStore, describeStore } from './create-store.js';
import { DEFAULT_FAIL_FAST_TIMEOUT_MS, DEFAULT_READ_TIMEOUT_MS } from './options/defaults.js';
import { isConfigurationError, reasonOf, storeReadError } from './store/store-error.js';
import type { KettleStore } from './store/kettle-store.interface.js';
import { KettleTimeoutError, ShutdownDeadline, withTimeout } from './utils/promise-timeout.js';
import { type Clock, systemClock } from './utils/clock.js';
import { TimerWheel } from './utils/timer-wheel.js';
import { ClaimRound } from './election/claim-round.js';
import { consoleLogger } from './console-logger.js';
import type { Duration } from './utils/duration.js';

/** `join(name, options)`: an election joined at run time. */
export interface JoinOptions extends ElectionOptions {
  /** Runs on the master every interval, like an `@OnMaster` method. */
  run?: (context: MasterContext) => unknown;
}

/**
 * `schedule(name, spec, run)`: when a job added at run time runs, on a cron schedule or every
 * interval, with the election's lease.
 */
export type ScheduleSpec =
  | {
      readonly cron: string;
      readonly timeZone?: string;
      readonly catchUp?: 'none' | 'latest';
      readonly leaseTtl?: Duration;
    }
  | {
      readonly interval: Duration;
      readonly leaseTtl?: Duration;
      /** Allows an interval under 1000 ms. Default: the module's `allowShortInterval`. */
      readonly allowShortInterval?: boolean;
    };

/** `getMaster(name, options)` and `ready(options)`. */
export interface ReadOptions {
  /**
   * How long the store may take to answer: ms, or a string such as `'2s'` (default 1000 for
   * `getMaster`; for `ready`, the `failFast` option's, else 5000).
   */
  timeoutMs?: Duration;
}

/** How often a node refreshes its presence key (a lease's length, within these bounds). */
const PRESENCE_MIN_MS = 1_000;
const PRESENCE_MAX_MS = 10_000;

/**
 * The elections of one node, without Nest: `new Kettle(options)`, `join`, `start`, `isMaster`,
 * `stop` (the original kettle's New / Start / IsMaster / cancel). KettleService is this, in Nest.
 *
 * `Names` (optional) lists the election names, e.g. `Kettle<'billing' | 'reports'>`, so that
 * TypeScript catches a misspelt one; at run time an unknown name throws once started.
 */
export class Kettle<Names extends string = string> {
  private readonly options: ResolvedKettleOptions;
  /** @internal Where this node logs: the `logger` option, made safe to call (one that throws changes nothing). */
  readonly logger: KettleLogger;
  private readonly elections = new Map<string, Election>();
  /** Every name this node has joined, left ones too: a query for any other is a mistake. */
  private readonly everJoined = new Set<string>();
  /** Causes of the configuration already logged at ERROR: each once. */
  private readonly misconfigurations = new Set<string>();
  /** The store's last connection error, which says why it cannot be reached. */
  private lastStoreError?: Error;
  /** Told at once of a cause of the configuration, while `ready()` waits. */
  private readonly readyWaiters = new Set<(error: Error) => void>();
  /** This process's token in its presence key, and how often each other token was seen there. */
  private readonly instance = randomBytes(8).toString('hex');
  private readonly sightings = new Map<string, number>();
  private presenceTimer?: unknown;
  private readonly listeners = new Set<(change: LeadershipChange) => void>();
  private readonly runObservers = new Set<RunObserver>();
  private phase: 'idle' | 'running' | 'stopping' | 'stopped' = 'idle';
  private stopped?: Promise<void>;
  private leaving?: Promise<void>;
  /** Set by the first step of a shutdown: every later step takes only what is left of it. */
  private deadline?: ShutdownDeadline;
  /** @internal Where the leases live: the module hands it to the health indicator and tests. */
  readonly store: KettleStore;
  /**
   * @internal This node's clock: its elections' deadlines and timers, and the wall time on which
   * they compute cron and guard slots. Tests give nodes clock offsets here; the elections read
   * whichever clock is set at each call (`currentClock`).
   */
  clock: Clock = systemClock;
  private readonly currentClock: Clock = {
    now: () => this.clock.now(),
    wallNow: () => this.clock.wallNow(),
    setTimeout: (callback, ms) => this.clock.setTimeout(callback, ms),
    clearTimeout: (timer) => this.clock.clearTimeout(timer),
  };
  /** Every election's timers: those due in one slice fire together, and their commands batch. */
  private readonly timerWheel = new TimerWheel(this.currentClock, TIMER_SLICE_MS);
  /** The run claims of every election in one turn, in one store call. */
  private readonly claimRound: ClaimRound;
  private readonly turnSpread = new TurnSpread();
  /** Store faults that many elections meet in one turn, logged in a few lines. */
  private readonly groupedLines: GroupedLines;
  /** Set once an election is balanced, with a store that can tell the live nodes; it keeps their names. */
  private balancer?: Balancer;
  /** Set with crashDetection 'connection' and a store that has the signal. */
  private readonly crashWatch?: CrashWatch;

  /** Validates the options (throwing an error that names a bad one) and opens the store. */
  constructor(options: KettleOptions = {}) {
    this.options = resolveKettleOptions(options);
    this.logger = guardedLogger(this.options.logger ?? consoleLogger);
    this.groupedLines = new GroupedLines(this.logger);
    this.store = createStore(
      this.options,
      (where, error) => this.storeFailed(where, error),
      (message) => this.logger.warn(message),
    );
    this.claimRound = new ClaimRound(this.store, this.timerWheel.asClock());
    const signal = this.store.connectionSignal;
    if (this.options.crashDetection === 'connection' && signal)
      this.crashWatch = new CrashWatch({
        signal,
        clock: this.currentClock,
        logger: this.logger,
        leaseTtl: this.options.leaseTtl,
        crashed: (nodeId) => this.balancer?.crashed(nodeId),
      });
  }

  /** This node's id, as the other nodes see it. */
  get nodeId(): string {
    return this.options.nodeId;
  }

  /**
   * True only while this node holds an unexpired lease on `name` (a local check, no round trip).
   * Once started, a name this node never joined throws, listing the ones it knows.
   */
  isMaster(name: Names): boolean {
    return this.local(name)?.isMaster ?? false;
  }

  /**
   * The fencing token of this node's current leadership of `name`, or undefined when not master.
   * About the server's clock in ms (1.8e12): a `bigint` column holds it, a 32-bit one does not.
   */
  term(name: Names): number | undefined {
    return this.local(name)?.term;
  }

  /**
   * The node id that holds `name` now, read from the store; null when nobody does. Any name, even
   * one this node never joined. Rejects with a KettleStoreError (`reason`: 'not-connected',
   * 'timeout', 'auth'...) when the store does not answer within `timeoutMs` (default 1000). A bad
   * name or timeout rejects too: a caller that only attaches `.catch` hears of every failure.
   */
  async getMaster(name: Names, options: ReadOptions = {}): Promise<string | null> {
    nonEmptyString('name', name);
    const timeoutMs = duration(
      'getMaster timeoutMs',
      options?.timeoutMs ?? DEFAULT_READ_TIMEOUT_MS,
      1,
    );
    const action = `getMaster(${JSON.stringify(name)})`;
    const read = Promise.resolve().then(() => this.store.holder(name));
    try {
      return await withTimeout(read, timeoutMs, 'the store');
    } catch (error) {
      throw storeReadError(action, error, this.lastStoreError);
    }
  }

  /** The names this node contends for. */
  names(): Names[] {
    return [...this.elections.keys()] as Names[];
  }

  /** The names this node leads now: those where `isMaster` is true. */
  leading(): Names[] {
    const led: Names[] = [];
    for (const [name, election] of this.elections) if (election.isMaster) led.push(name as Names);
    return led;
  }

  /** Counters, role, lease left and renew latency of election `name`; undefined when not joined. */
  stats(name: Names): ElectionStats | undefined {
    const election = this.local(name);
    return election && electionStats(election);
  }

  /** `stats()` of every election this node takes part in, in one call: for a metrics exporter. */
  metrics(): ElectionStats[] {
    return [...this.elections.values()].map(electionStats);
  }

  /** Milliseconds of lease left on this node's clock (0 when not master). */
  leaseLeft(name: Names): number {
    return this.local(name)?.leaseLeft ?? 0;
  }

  /**
   * Calls `listener` on every change of this node's role, per election; returns the unsubscriber.
   * A listener that throws, or returns a promise that rejects, is logged and counted
   * (`stats(name).callbackErrors`); the election goes on.
   */
  onChange(listener: (change: LeadershipChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Wraps every run of a master job on this node, guarded firings included, in `observer` (e.g. a
   * tracing span: `nestjs-kettle/otel`); returns the unsubscriber. It gets the run (election, node,
   * term, job, slot) and `proceed`, which runs the job and resolves with its outcome. The job runs
   * once whatever the observer does; an observer that throws or rejects is logged and counted
   * (`stats(name).callbackErrors`). Several observers nest, the first added outermost.
   */
  onRun(observer: RunObserver): () => void {
    if (typeof observer !== 'function') throw new TypeError(invalidRunObserver(observer));
    this.runObservers.add(observer);
    return () => this.runObservers.delete(observer);
  }

  /**
   * Gives up leadership of `name`: no run starts from now on, the running one (its signal aborted)
   * gets `shutdownTimeout` to end, then the lease is released and another node takes it at once;
   * this one contends again later. `isMaster(name)` stays true until the running job has ended.
   * Resolves once the lease was released (by this, or by a stop or a loss that came first); at
   * once when this node is not master. A name never joined rejects, listing the known ones.
   */
  async resign(name: Names): Promise<void> {
    await this.joined(name).resign(this.options.shutdownTimeout);
  }

  /** Joins election `name`; it contends from `start()`, or at once when already started. */
  join(name: Names, options: JoinOptions = {}): void {
    const { run, ...settings } = options ?? {};
    if (run !== undefined && typeof run !== 'function') throw new TypeError(invalidRun(name));
    const where = `join(${JSON.stringify(name)}): `;
    this.addElection(name, { settings, jobs: run ? [{ id: `join('${name}')`, run }] : [] }, where);
  }

  /**
   * Runs `run` on the master of election `name`, on a cron schedule or every interval, with the
   * guarantees of `@OnMaster` (each slot once, whichever node leads): SchedulerRegistry.addCronJob's
   * counterpart. `leave(name)` stops it.
   */
  schedule(name: Names, spec: ScheduleSpec, run: (context: MasterContext) => unknown): void {
    const where = `schedule(${JSON.stringify(name)}): `;
    // A misspelt key first: `{ intreval }` is better told as such than as no interval.
    if (spec !== null && typeof spec === 'object') checkElectionKeys(spec, where);
    if (spec === null || typeof spec !== 'object' || !('cron' in spec || 'interval' in spec))
      throw new TypeError(invalidOption('spec', spec, '{ cron } or { interval }', { where }));
    // Present is what counts: `{ cron: undefined }` would otherwise become an interval job.
    const { cron, interval } = spec as { cron?: unknown; interval?: unknown };
    if ('cron' in spec && 'interval' in spec) {
      // The one left undefined is the one to remove; with both set, the user knows which is meant.
      const remove = interval === undefined ? 'interval' : cron === undefined ? 'cron' : undefined;
      throw new TypeError(intervalAndCron(where, interval, cron, remove));
    }
    // As resolveElection checks them, with its words, but undefined counts as there.
    if ('cron' in spec) cronSchedule(where, cron, (spec as { timeZone?: unknown }).timeZone);
    else duration('interval', interval, 1, where);
    if (typeof run !== 'function')
      throw new TypeError(invalidOption('run', run, 'a function', { where }));
    this.addElection(name, { settings: spec, jobs: [{ id: `schedule('${name}')`, run }] }, where);
  }

  /** Leaves election `name`: stops contending, waits for a running job, releases the lease if held. */
  async leave(name: Names): Promise<void> {
    const election = this.joined(name);
    // It stays listed until it has stopped, so that a stop meanwhile waits for it too.
    try {
      // During a shutdown, within what is left of it.
      await election.stop(
        this.deadline ?? new ShutdownDeadline(this.options.shutdownTimeout, this.currentClock),
      );
    } finally {
      if (this.elections.get(name) === election) {
        this.elections.delete(name);
        this.balancer?.remove(name);
      }
    }
  }

  /** Starts contending for every election joined so far (and for later ones as they join). */
  start(): void {
    if (this.phase !== 'idle') return;
    this.phase = 'running';
    this.logger.log(
      starting(
        this.nodeId,
        describeStore(this.options.store),
        this.options.keyPrefix,
        this.names(),
      ),
    );
    if (this.options.crashDetection === 'connection' && !this.crashWatch)
      this.logger.warn(
        crashDetectionFallsBack(crashDetectionUnsupported(this.store.constructor.name)),
      );
    this.crashWatch?.start();
    for (const election of this.elections.values()) election.start();
    this.balancer?.start();
    this.announcePresence();
  }

  /**
   * Resolves once the store takes commands (at once for a store that does not say); rejects with
   * a KettleStoreError naming the cause when it cannot be reached within `timeoutMs` (default: the
   * `failFast` option's, else 5000), and at once on a cause of the configuration (a wrong
   * password, a host that does not resolve, a certificate refused). `KettleService` calls it at
   * bootstrap with the `failFast` option; in a plain worker: `await kettle.ready(); kettle.start()`.
   */
  async ready(options: ReadOptions = {}): Promise<void> {
    const timeoutMs = duration(
      'ready timeoutMs',
      options?.timeoutMs ?? this.options.failFast?.timeoutMs ?? DEFAULT_FAIL_FAST_TIMEOUT_MS,
      1,
    );
    const { store } = this;
    if (store.connected !== false || !store.onConnected) return;
    // Named as in the start line, which comes only after: the user learns which store failed.
    const where = describeStore(this.options.store);
    const action = failFastGaveUp(where, timeoutMs);
    const refused = failFastRefused(where);
    const fast = this.options.store.kind === 'redis' ? this.lastStoreError : undefined;
    if (fast && isConfigurationError(fast)) throw storeReadError(refused, fast);
    await new Promise<void>((resolve, reject) => {
      const done = (error?: Error) => {
        clearTimeout(timer);
        unsubscribe();
        this.readyWaiters.delete(misconfigured);
        if (error) reject(error);
        else resolve();
      };
      // One server of a quorum wrongly set up still leaves a majority to wait for.
      const misconfigured = (error: Error) => {
        if (this.options.store.kind === 'redis') done(storeReadError(refused, error));
      };
      const unsubscribe = store.onConnected!(() => done());
      const timer = setTimeout(() => {
        const cause = this.lastStoreError ?? new KettleTimeoutError('the store', timeoutMs);
        done(storeReadError(action, cause));
      }, timeoutMs);
      this.readyWaiters.add(misconfigured);
      if (store.connected) done();
    });
  }

  /** @internal KettleService's bootstrap: with `failFast`, the store first, closed if it fails. */
  async startWhenReady(): Promise<void> {
    if (this.options.failFast) {
      try {
        await this.ready();
      } catch (error) {
        await this.stop();
        throw error;
      }
    }
    this.start();
  }

  /**
   * Stops every election: no run starts from now on, running jobs see their signal abort, held
   * leases are released (a follower takes over at once), then the store is closed; all of it
   * within `shutdownTimeout`.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.leaveAll();
      await this.close();
    })();
    return this.stopped;
  }

  /** @internal The explorer's way in, and join's: one election per name per node. */
  addElection(name: string, declaration: ElectionDeclaration, where = ''): void {
    nonEmptyString('name', name, where);
    if (this.elections.has(name)) throw new Error(alreadyJoined(name));
    if (this.phase === 'stopping' || this.phase === 'stopped') throw new Error(shuttingDown(name));
    const { settings, ...handlers } = declaration;
    const { interval, leaseTtl, cron, balance } = resolveElection(this.options, settings, where);
    if (cron && !this.store.claimSlot)
      throw new Error(cronNeedsClaimSlot(where, this.store.constructor.name));
    const balancer = balance ? this.balancerOf(where) : undefined;
    const election = new Election({
      name,
      nodeId: this.options.nodeId,
      timing: electionTiming(interval, leaseTtl),
      cron,
      clock: this.currentClock,
      timerWheel: this.timerWheel,
      claimRound: this.claimRound,
      turnSpread: this.turnSpread,
      groupedLines: this.groupedLines,
      balance: balancer,
      crashWatch: this.crashWatch,
      ...handlers,
      store: this.store,
      logger: this.logger,
      verbose: this.options.verbose,
      listeners: this.listeners,
      runObservers: this.runObservers,
    });
    this.elections.set(name, election);
    this.everJoined.add(name);
    balancer?.add(name);
    if (this.phase === 'running') {
      election.start();
      balancer?.start();
    }
  }

  /** The balancer, made on the first balanced election; a store that cannot tell the fleet is refused. */
  private balancerOf(where: string): Balancer {
    const { store } = this;
    if (!store.heartbeat) throw new Error(balanceNeedsHeartbeat(where, store.constructor.name));
    if (!this.balancer) {
      const balancer = new Balancer({
        nodeId: this.nodeId,
        store: store as KettleStore & Required<Pick<KettleStore, 'heartbeat'>>,
        clock: this.currentClock,
        leaseTtl: this.options.leaseTtl,
        busy: (name) => this.electionOf(name)?.busy ?? false,
        handOver: (name) =>
          void this.electionOf(name)?.resign(this.options.shutdownTimeout, 'rebalanced'),
        logger: this.logger,
        verbose: this.options.verbose,
      });
      this.listeners.add((change) => balancer.changed(change));
      this.balancer = balancer;
    }
    return this.balancer;
  }

  /** @internal KettleElectionDriver's and the schedule guard's way to one election. */
  electionOf(name: string): Election | undefined {
    return this.elections.get(name);
  }

  /**
   * @internal The first step of `stop()`, Nest's onModuleDestroy, and the start of its
   * `shutdownTimeout`: no election contends or starts a run from now on, running jobs drain and
   * held leases are released. Every call returns the same promise.
   */
  leaveAll(): Promise<void> {
    this.leaving ??= this.leaveElections();
    return this.leaving;
  }

  private async leaveElections(): Promise<void> {
    this.phase = 'stopping';
    this.currentClock.clearTimeout(this.presenceTimer);
    const deadline = this.shutdownDeadline();
    // Out of the fleet as the leases are released: the survivors' shares grow at their next beat.
    await Promise.all([
      this.balancer?.stop(deadline.forWaits),
      ...[...this.elections.values()].map((election) => election.stop(deadline)),
    ]);
    this.elections.clear();
    this.crashWatch?.stop();
    this.phase = 'stopped';
  }

  /** @internal Last step of `stop()`: closes the store kettle opened (never the user's own). */
  async close(): Promise<void> {
    this.listeners.clear();
    this.runObservers.clear();
    if (this.options.store.kind !== 'custom')
      await this.store.close(this.shutdownDeadline().forClose);
  }

  private shutdownDeadline(): ShutdownDeadline {
    this.deadline ??= new ShutdownDeadline(this.options.shutdownTimeout, this.currentClock);
    return this.deadline;
  }

  /** The election `name`, for a call that needs it joined; a name never joined is told as a typo. */
  private joined(name: string): Election {
    const election = this.elections.get(name);
    if (election) return election;
    if (!this.everJoined.has(name)) throw new Error(unknownElection(name, [...this.everJoined]));
    throw new Error(notJoined(name));
  }

  /**
   * The election `name` for a query of this node's own state; undefined when left (or not yet
   * started). A name never joined, once started, is a typo: it throws, listing the known ones.
   */
  private local(name: string): Election | undefined {
    const election = this.elections.get(name);
    if (election || this.phase === 'idle' || this.everJoined.has(name)) return election;
    throw new Error(unknownElection(name, [...this.everJoined]));
  }

  /**
   * A connection error of the store: a cause of the configuration (a password, a right, a host
   * name, a certificate) at ERROR, once each, for it will not pass by itself; an outage at WARN
   * (the store reports each one once).
   */
  private storeFailed(where: string, error: Error): void {
    this.lastStoreError = error;
    if (!isConfigurationError(error)) {
      this.logger.warn(redisConnectionError(where, error.message));
      return;
    }
    for (const waiter of this.readyWaiters) waiter(error);
    const reason = reasonOf(error);
    if (this.misconfigurations.has(`${reason} ${error.message}`)) return;
    this.misconfigurations.add(`${reason} ${error.message}`);
    this.logger.error(storeMisconfigured(where, reason, error.message));
  }

  /**
   * Marks this node id as this process's in the store, again and again until stopped, and warns
   * once per other process seen with the same id. A store without announceNode is not asked. A
   * token seen once may be this node's previous process, restarted within the key's life (a pod
   * name as node id); only a live process writes it again, so the warning waits for a second sight.
   */
  private announcePresence(): void {
    const { store } = this;
    if (!store.announceNode || this.phase !== 'running') return;
    const periodMs = Math.min(PRESENCE_MAX_MS, Math.max(PRESENCE_MIN_MS, this.options.leaseTtl));
    Promise.resolve()
      .then(() => store.announceNode!(this.nodeId, this.instance, periodMs * 3))
      .then(
        (other) => {
          if (!other) return;
          const seen = (this.sightings.get(other) ?? 0) + 1;
          this.sightings.set(other, seen);
          if (seen === 2) this.logger.warn(duplicateNodeId(this.nodeId));
        },
        // An outage is the elections' to report.
        () => undefined,
      )
      .finally(() => {
        if (this.phase === 'running')
          this.presenceTimer = this.currentClock.setTimeout(
            () => this.announcePresence(),
            periodMs,
          );
      });
  }
}
