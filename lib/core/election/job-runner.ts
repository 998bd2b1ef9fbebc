import type { ElectionCounters } from '../interfaces/election-stats.interface.js';
import type { MasterContext } from '../interfaces/master-context.interface.js';
import * as messages from '../kettle.messages.js';
import type { KettleLogger } from '../interfaces/kettle-options.interface.js';
import type { MasterJob } from './election-config.js';
import { describeError, stackOf } from '../utils/thrown-values.js';
import { settlesWithin } from '../utils/promise-timeout.js';
import { type Clock, systemClock } from '../utils/clock.js';

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
    const runs = this.jobs.map(async (job) => {
      try {
        await job.run(context);
      } catch (error) {
        this.stats.failedRuns++;
        this.logger.error(
          `${messages.runFailed(context.name)} (${job.id}): ${describeError(error)}`,
          stackOf(error),
        );
      }
    });
    const running = Promise.all(runs).then(() => {
      this.running = undefined;
    });
    this.running = running;
    return running;
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
