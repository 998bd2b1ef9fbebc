import type { ElectionOptions } from '../interfaces/kettle-options.interface.js';
import { intervalAndCron, invalidOption, onlyWithCron } from '../kettle.messages.js';
import {
  CATCH_UP_VALUES,
  type CatchUp,
  CronSchedule,
  DEFAULT_CATCH_UP,
} from '../election/schedule.js';
import { leaseTtl, milliseconds, oneOf } from './validators.js';

/** An election's settings after defaults and validation. */
export interface ResolvedElection {
  readonly interval: number;
  readonly leaseTtl: number;
  /** Set when the jobs run on a cron schedule rather than every `interval`. */
  readonly cron?: { readonly schedule: CronSchedule; readonly catchUp: CatchUp };
}

/** The settings one election may have of its own. */
export const ELECTION_OPTION_KEYS = [
  'interval',
  'leaseTtl',
  'cron',
  'timeZone',
  'catchUp',
] as const;

/** An election's interval (or cron schedule) and lease: its own where given, else the module's. */
export function resolveElection(
  defaults: { readonly interval: number; readonly leaseTtl: number },
  options: ElectionOptions = {},
  where = '',
): ResolvedElection {
  checkElectionKeys(options, where);
  const { cron, timeZone, catchUp } = options;
  if (options.interval !== undefined && cron !== undefined)
    throw new TypeError(intervalAndCron(where, options.interval, cron));
  if (cron === undefined) {
    if (timeZone !== undefined) throw new TypeError(onlyWithCron(`${where}timeZone`, timeZone));
    if (catchUp !== undefined) throw new TypeError(onlyWithCron(`${where}catchUp`, catchUp));
  }
  return {
    interval: milliseconds(`${where}interval`, options.interval ?? defaults.interval, 1),
    leaseTtl: leaseTtl(`${where}leaseTtl`, options.leaseTtl ?? defaults.leaseTtl),
    ...(cron !== undefined && {
      cron: {
        schedule: cronSchedule(where, cron, timeZone),
        catchUp: oneOf(`${where}catchUp`, catchUp ?? DEFAULT_CATCH_UP, CATCH_UP_VALUES),
      },
    }),
  };
}

/** `@OnMaster` and `join` take the election settings only: a typo must not pass silently. */
export function checkElectionKeys(options: object, where: string): void {
  for (const [key, value] of Object.entries(options)) {
    if (!(ELECTION_OPTION_KEYS as readonly string[]).includes(key)) {
      throw new TypeError(
        invalidOption(
          `${where}${key}`,
          value,
          `one of ${ELECTION_OPTION_KEYS.join(', ')} (unknown option)`,
          true,
        ),
      );
    }
  }
}

/** The zone is checked first, so that the error names the option at fault. */
export function cronSchedule(where: string, cron: unknown, timeZone: unknown): CronSchedule {
  if (timeZone !== undefined) {
    try {
      if (typeof timeZone !== 'string' || timeZone === '') throw new Error('not a string');
      new CronSchedule('* * * * * *', timeZone);
    } catch {
      throw new TypeError(
        invalidOption(`${where}timeZone`, timeZone, "an IANA time zone, e.g. 'Europe/Paris'"),
      );
    }
  }
  try {
    if (typeof cron !== 'string' || cron.trim() === '') throw new Error('not a string');
    return new CronSchedule(cron, timeZone as string | undefined);
  } catch (error) {
    const reason = error instanceof Error && typeof cron === 'string' ? ` (${error.message})` : '';
    throw new TypeError(
      invalidOption(
        `${where}cron`,
        cron,
        `a cron expression in @nestjs/schedule's syntax, with an optional seconds field, e.g. '0 0 2 * * *'${reason}`,
      ),
    );
  }
}
