import * as messages from '../kettle.messages.js';
import type { KettleLogger } from '../interfaces/kettle-options.interface.js';

interface Group {
  readonly level: 'warn' | 'log';
  readonly what: string;
  others: number;
}

/**
 * Lines that many elections of a node log in one turn for one cause: 10,000 elections that meet
 * the same outage in the same batch log its first line as it is, and the rest in one line at the
 * end of the turn, instead of 10,000 lines (which alone would keep the node busy).
 */
export class GroupedLines {
  private readonly groups = new Map<string, Group>();

  constructor(private readonly logger: KettleLogger) {}

  /**
   * Logs `line` at `level`, unless a line for `cause` went out this turn: then it is counted.
   * `what` says the cause in the summary line (`acquire failed (…)`).
   */
  say(level: 'warn' | 'log', cause: string, what: string, line: string): void {
    const group = this.groups.get(cause);
    if (group) {
      group.others++;
      return;
    }
    if (this.groups.size === 0) setImmediate(() => this.summarize());
    this.groups.set(cause, { level, what, others: 0 });
    this.logger[level](line);
  }

  private summarize(): void {
    for (const { level, what, others } of this.groups.values())
      if (others > 0) this.logger[level](messages.sameForOtherElections(others, what));
    this.groups.clear();
  }
}
