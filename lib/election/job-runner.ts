import type { ElectionStats } from '../interfaces/election-stats.interface.js';
import type { MasterContext } from '../interfaces/master-context.interface.js';
import * as messages from '../kettle.messages.js';
import type { ElectionLogger, MasterJob } from './election-config.js';
import { describeError, stackOf } from './errors.js';
import { settlesWithin } from '../timeouts.js';

/** Runs an election's jobs, all at once, one run at a time; a failing job is logged, never thrown. */
export class JobRunner {
  private running?: Promise<void>;

  constructor(
    private readonly jobs: readonly MasterJob[],
    private readonly stats: ElectionStats,
    private readonly logger: ElectionLogger,
  ) {}

  get hasJobs(): boolean {
    return this.jobs.length > 0;
  }

  /** A run is still going. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  start(context: MasterContext): void {
    this.stats.runs++;
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
    this.running = Promise.all(runs).then(() => {
      this.running = undefined;
    });
  }

  /** Waits for the run in progress, at most `ms`; true when it finished. */
  drain(ms: number): Promise<boolean> {
    return this.running ? settlesWithin(this.running, ms) : Promise.resolve(true);
  }
}
