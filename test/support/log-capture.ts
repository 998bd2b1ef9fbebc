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
