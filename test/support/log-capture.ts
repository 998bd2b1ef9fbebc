import { vi } from 'vitest';
import type { LoggerService } from '@nestjs/common';

/** A Nest logger that keeps what it is told, for tests that check log lines. */
export class CapturedLogs implements LoggerService {
  readonly lines: Array<{ level: string; message: string; extra: unknown[] }> = [];
  log(message: unknown, ...extra: unknown[]) {
    this.push('log', message, extra);
  }
  warn(message: unknown, ...extra: unknown[]) {
    this.push('warn', message, extra);
  }
  error(message: unknown, ...extra: unknown[]) {
    this.push('error', message, extra);
  }
  debug(message: unknown, ...extra: unknown[]) {
    this.push('debug', message, extra);
  }
  verbose(message: unknown, ...extra: unknown[]) {
    this.push('verbose', message, extra);
  }
  text(): string {
    return this.lines
      .map((line) => `${line.level} ${line.message} ${line.extra.join(' ')}`)
      .join('\n');
  }
  private push(level: string, message: unknown, extra: unknown[]) {
    this.lines.push({ level, message: String(message), extra });
  }
}

/**
 * Keeps the lines kettle writes to stderr (`[Kettle] …`, where a failing logger's lines go) and
 * passes every other write on; `cleanups` gets the restore.
 */
export function captureKettleStderr(cleanups: Array<() => unknown>): string[] {
  const lines: string[] = [];
  const write = process.stderr.write.bind(process.stderr);
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk, ...rest) => {
    if (String(chunk).startsWith('[Kettle]')) return lines.push(String(chunk)) > 0;
    return write(chunk as string, ...(rest as []));
  });
  cleanups.push(() => spy.mockRestore());
  return lines;
}
