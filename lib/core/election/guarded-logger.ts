import type { ElectionCounters } from '../interfaces/election-stats.interface.js';
import type { KettleLogger } from '../interfaces/kettle-options.interface.js';
import { loggerFailed } from '../kettle.messages.js';
import { catchRejection, describeError } from '../utils/thrown-values.js';

/**
 * The user's logger, safe to call: a method that throws, or returns a promise that rejects, is
 * counted, and the line it was given goes to stderr instead; the caller (a timer of the election,
 * a job's failure) goes on.
 */
class GuardedLogger implements KettleLogger {
  constructor(
    readonly target: KettleLogger,
    private readonly counters?: Pick<ElectionCounters, 'callbackErrors'>,
  ) {}

  log(message: string): void {
    this.call('log', message);
  }

  warn(message: string): void {
    this.call('warn', message);
  }

  error(message: string, stack?: string): void {
    this.call('error', message, stack);
  }

  debug(message: string): void {
    this.call('debug', message);
  }

  private call(level: keyof KettleLogger, message: string, stack?: string): void {
    const failed = (error: unknown) => this.failed(level, message, error);
    try {
      const result: unknown =
        level === 'error' && stack !== undefined
          ? this.target.error(message, stack)
          : this.target[level](message);
      catchRejection(result, failed);
    } catch (error) {
      failed(error);
    }
  }

  private failed(level: keyof KettleLogger, message: string, error: unknown): void {
    if (this.counters) this.counters.callbackErrors++;
    try {
      process.stderr.write(`${loggerFailed(level, message, describeError(error))}\n`);
    } catch {
      // Nowhere left to say it.
    }
  }
}

/** `logger`, safe to call; its failures count in `counters` when given. A guarded logger is not wrapped twice. */
export function guardedLogger(
  logger: KettleLogger,
  counters?: Pick<ElectionCounters, 'callbackErrors'>,
): KettleLogger {
  return new GuardedLogger(logger instanceof GuardedLogger ? logger.target : logger, counters);
}
