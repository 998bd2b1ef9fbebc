import type { ElectionCounters } from '../interfaces/election-stats.interface.js';
import * as messages from '../kettle.messages.js';
import type { KettleLogger } from '../interfaces/kettle-options.interface.js';
import { describeError, stackOf } from '../utils/thrown-values.js';

/** What one election tells its logger: leadership changes, and store faults once per outage. */
export class ElectionLog {
  private lastError?: string;

  constructor(
    private readonly name: string,
    private readonly logger: KettleLogger,
    private readonly verbose: boolean,
    private readonly counters: ElectionCounters,
  ) {}

  /** Leadership changes: at log level when verbose, at debug level otherwise. */
  announce(message: string): void {
    if (this.verbose) this.logger.log(message);
    else this.logger.debug(message);
  }

  /** Store faults are logged once each until they change or heal, not on every retry. */
  storeFailed(action: string, error: unknown): void {
    this.counters.storeErrors++;
    const message = messages.storeError(this.name, action, describeError(error));
    if (message === this.lastError) return this.logger.debug(message);
    this.lastError = message;
    this.logger.warn(message);
  }

  storeAnswered(): void {
    if (this.lastError) this.logger.log(messages.storeRecovered(this.name));
    this.lastError = undefined;
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
