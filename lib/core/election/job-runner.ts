import type { ElectionCounters } from '../interfaces/election-stats.interface.js';
import type { MasterContext } from '../interfaces/master-context.interface.js';
import type { RunInfo, RunObserver, RunOutcome } from '../interfaces/run-observer.interface.js';
import * as messages from '../kettle.messages.js';
import type { KettleLogger } from '../interfaces/kettle-options.interface.js';
import type { MasterJob } from './election-config.js';
import { catchRejection, describeError, isThenable, stackOf } from '../utils/thrown-values.js';
import { settlesWithin } from '../utils/promise-timeout.js';
import { type Clock, systemClock } from '../utils/clock.js';

/** What `start` returns for a run that ended as it started. */
const ENDED: Promise<void> = Promise.resolve();

/** Runs an election's jobs, all at once, one run at a time; a failing job is logged, never thrown. */
export class JobRunner {
  private running?: Promise<void>;
  /** When the run in progress started, on the clock's monotonic time. */
  private runStartedAt = 0;
  /** Runs of @OnMaster methods that @nestjs/schedule fired: not ours to start, but to wait for. */
  private readonly scheduled = new Set<Promise<unknown>>();

  constructor(
    private readonly jobs: readonly MasterJob[],
    private readonly stats: ElectionCounters,
    private readonly logger: KettleLogger,
    private readonly clock: Clock = systemClock,
    /** Wrap every run, each the next, the first outermost (`Kettle.onRun`). */
    private readonly observers: ReadonlySet<RunObserver> = new Set(),
  ) {}

  get hasJobs(): boolean {
    return this.jobs.length > 0;
  }

  /** A run is still going. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** A run is going that started at `time` or later. */
  runStartedSince(time: number): boolean {
    return this.running !== undefined && this.runStartedAt >= time;
  }

  /** Settles when the run in progress (if any) has ended; it never rejects. */
  get ended(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Starts a run of every job; the promise settles when they all have (it never rejects). */
  start(context: MasterContext): Promise<void> {
    this.stats.runs++;
    this.runStartedAt = this.clock.now();
    if (this.jobs.length === 1 && this.observers.size === 0) {
      const ended = this.runAlone(this.jobs[0]!, context);
      return ended ? this.runningUntil(ended) : ENDED;
    }
    const { name, nodeId, term, scheduledAt } = context;
    const runOne = (job: MasterJob) =>
      this.observers.size === 0
        ? this.runJob(job, context)
        : this.observed({ name, nodeId, term, job: job.id, scheduledAt }, () =>
            this.runJob(job, context),
          );
    return this.runningUntil(Promise.all(this.jobs.map(runOne)));
  }

  /** The run in progress until `runs` settles. */
  private runningUntil(runs: Promise<unknown>): Promise<void> {
    const running = runs.then(() => {
      this.running = undefined;
    });
    this.running = running;
    return running;
  }

  /**
   * One job with no observer, the usual case: one that returns no promise has ended by the return
   * (undefined), with no promise made for it; else the promise of its end, which never rejects.
   */
  private runAlone(job: MasterJob, context: MasterContext): Promise<unknown> | undefined {
    let ended: Promise<unknown> | undefined;
    try {
      const returned = job.run(context);
      if (isThenable(returned)) ended = Promise.resolve(returned);
    } catch (error) {
      this.failed(job, context, error);
    }
    return ended?.then(undefined, (error: unknown) => this.failed(job, context, error));
  }

  private async runJob(job: MasterJob, context: MasterContext): Promise<RunOutcome> {
    try {
      await job.run(context);
      return { ok: true };
    } catch (error) {
      this.failed(job, context, error);
      return { ok: false, error };
    }
  }

  private failed(job: MasterJob, context: MasterContext, error: unknown): void {
    this.stats.failedRuns++;
    this.logger.error(
      `${messages.runFailed(context.name)} (${job.id}): ${describeError(error)}`,
      stackOf(error),
    );
  }

  /**
   * Runs `run` (which never rejects) through the run observers; it runs exactly once whatever they
   * do, and the promise never rejects either.
   */
  observed(info: RunInfo, run: () => Promise<RunOutcome>): Promise<RunOutcome> {
    return this.through([...this.observers], 0, info, run);
  }

  private through(
    observers: readonly RunObserver[],
    index: number,
    info: RunInfo,
    run: () => Promise<RunOutcome>,
  ): Promise<RunOutcome> {
    if (index === observers.length) return run();
    let inner: Promise<RunOutcome> | undefined;
    const proceed = () => (inner ??= this.through(observers, index + 1, info, run));
    const failed = (error: unknown) => {
      this.stats.callbackErrors++;
      this.logger.error(
        messages.runObserverFailed(info.name, describeError(error)),
        stackOf(error),
      );
    };
    let returned: unknown;
    try {
      returned = observers[index](info, proceed);
    } catch (error) {
      failed(error);
      return proceed();
    }
    if (inner) {
      catchRejection(returned, failed);
      return inner;
    }
    // Not called yet: the observer may call it after an await of its own; else once it settles.
    return Promise.resolve(returned).then(
      () => proceed(),
      (error: unknown) => {
        failed(error);
        return proceed();
      },
    );
  }

  /**
   * Runs the jobs once after the run in progress, if any, unless `startsRuns()` says no by then:
   * runs never overlap, and never start after the leadership ended or began to. True when it ran.
   */
  async runAfterCurrent(context: MasterContext, startsRuns: () => boolean): Promise<boolean> {
    while (this.running) await this.running;
    if (context.signal.aborted || !startsRuns()) return false;
    await this.start(context);
    return true;
  }

  /**
   * Counts `run` as in progress until it settles: `drain` waits for it. It should not reject; if it
   * does anyway, the caller has it, and neither this nor `drain` rejects (a shutdown would stop).
   */
  track(run: Promise<unknown>): void {
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.scheduled.add(settled);
    void settled.then(() => this.scheduled.delete(settled));
  }

  /** No run of the jobs, nor a tracked one, is in progress. */
  get idle(): boolean {
    return this.running === undefined && this.scheduled.size === 0;
  }

  /** Waits for the runs in progress, at most `ms`; true when they all finished. */
  drain(ms: number): Promise<boolean> {
    if (this.idle) return Promise.resolve(true);
    return settlesWithin(Promise.all([this.running, ...this.scheduled]), ms, this.clock);
  }
}
