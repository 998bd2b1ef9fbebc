import type { ElectionCounters } from '../interfaces/election-stats.interface.js';
import * as messages from '../kettle.messages.js';
import type { KettleLogger } from '../interfaces/kettle-options.interface.js';
import { describeError, stackOf } from '../utils/thrown-values.js';
import { GroupedLines } from './grouped-lines.js';

/** What one election tells its logger: leadership changes, and store faults once per outage. */
export class ElectionLog {
  private lastError?: string;

  constructor(
    private readonly name: string,
    private readonly logger: KettleLogger,
    private readonly verbose: boolean,
    private readonly counters: ElectionCounters,
    /** Shared by a node's elections: one outage seen by thousands of them logs a few lines. */
    private readonly grouped = new GroupedLines(logger),
  ) {}

  /** Leadership changes: at log level when verbose, at debug level otherwise. */
  announce(message: string): void {
    if (this.verbose) this.logger.log(message);
    else this.logger.debug(message);
  }

  /** Store faults are logged once each until they change or heal, not on every retry. */
  storeFailed(action: string, error: unknown): void {
    this.counters.storeErrors++;
    const what = messages.storeFailure(action, describeError(error));
    const message = messages.storeError(this.name, action, describeError(error));
    if (message === this.lastError) return this.logger.debug(message);
    this.lastError = message;
    this.grouped.say('warn', what, what, message);
  }

  storeAnswered(): void {
    if (!this.lastError) return;
    this.lastError = undefined;
    const what = messages.storeAnswersAgain;
    this.grouped.say('log', what, what, messages.storeRecovered(this.name));
  }

  /** A leadership listener threw: logged and counted; the election goes on. */
  listenerFailed(error: unknown): void {
    this.counters.callbackErrors++;
    this.logger.error(messages.listenerFailed(this.name, describeError(error)), stackOf(error));
  }

  /** A step of the loop threw: it should not, but the loop goes on. */
  stepFailed(error: unknown): void {
    this.logger.error(messages.stepFailed(this.name, describeError(error)), stackOf(error));
  }
}
