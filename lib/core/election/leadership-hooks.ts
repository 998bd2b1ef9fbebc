import type { ElectionCounters } from '../interfaces/election-stats.interface.js';
import type { LeadershipChange } from '../interfaces/leadership-change.interface.js';
import type { MasterContext } from '../interfaces/master-context.interface.js';
import * as messages from '../kettle.messages.js';
import { settlesWithin } from '../utils/promise-timeout.js';
import { type Clock, systemClock } from '../utils/clock.js';
import type { KettleLogger } from '../interfaces/kettle-options.interface.js';
import type { LeadershipHandler } from './election-config.js';
import { describeError, stackOf } from '../utils/thrown-values.js';

/**
 * Runs an election's `@OnElected` and `@OnRevoked` handlers. A failing handler is logged and
 * counted, never thrown. The election's timers never wait on a handler; only the first run of a
 * leadership waits for its elected handlers, and for a bounded time.
 */
export class LeadershipHooks {
  /** The elected handlers of the latest leadership: its revoked handlers start after them. */
  private electedRun: Promise<void> = Promise.resolve();
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly name: string,
    private readonly onElected: readonly LeadershipHandler<MasterContext>[],
    private readonly onRevoked: readonly LeadershipHandler<LeadershipChange>[],
    private readonly logger: KettleLogger,
    private readonly counters: Pick<ElectionCounters, 'callbackErrors'>,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Starts the elected handlers of a new leadership. Resolves when they have all returned, or
   * after `boundMs` (with a warning) if they have not; never rejects.
   */
  async elected(context: MasterContext, boundMs: number): Promise<void> {
    if (this.onElected.length === 0) return;
    const run = this.track(this.runAll('OnElected', this.onElected, context));
    this.electedRun = run;
    if (!(await settlesWithin(run, boundMs, this.clock))) {
      this.logger.warn(messages.electedHandlersSlow(this.name, boundMs));
    }
  }

  /**
   * Starts the revoked handlers of a leadership that ended. They wait for that leadership's elected
   * handlers (whose signal has aborted), so that a stop never overtakes its start.
   */
  revoked(change: LeadershipChange): void {
    if (this.onRevoked.length === 0) return;
    this.track(this.electedRun.then(() => this.runAll('OnRevoked', this.onRevoked, change)));
  }

  /** Resolves when every handler started so far has returned. */
  settled(): Promise<void> {
    return Promise.all(this.pending).then(() => undefined);
  }

  /**
   * At shutdown: waits for the handlers at most `ms` (what is left of `shutdownTimeout`), and says
   * so when they did not finish.
   */
  async drain(ms: number, shutdownTimeout: number): Promise<void> {
    if (this.pending.size === 0) return;
    if (!(await settlesWithin(this.settled(), ms, this.clock))) {
      this.logger.warn(messages.handlersTimedOut(this.name, shutdownTimeout));
    }
  }

  private track(run: Promise<void>): Promise<void> {
    this.pending.add(run);
    void run.then(() => this.pending.delete(run));
    return run;
  }

  private async runAll<T>(
    decorator: 'OnElected' | 'OnRevoked',
    handlers: readonly LeadershipHandler<T>[],
    arg: T,
  ): Promise<void> {
    await Promise.all(
      handlers.map(async (handler) => {
        try {
          await handler.run(arg);
        } catch (error) {
          this.counters.callbackErrors++;
          this.logger.error(
            messages.handlerFailed(this.name, decorator, handler.id, describeError(error)),
            stackOf(error),
          );
        }
      }),
    );
  }
}
