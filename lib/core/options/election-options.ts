import type { ElectionOptions } from '../interfaces/kettle-options.interface.js';
import { intervalAndCron, invalidOption, onlyWithCron, unknownOption } from '../kettle.messages.js';
import { didYouMean } from '../utils/did-you-mean.js';
import {
  CATCH_UP_VALUES,
  type CatchUp,
  CronSchedule,
  DEFAULT_CATCH_UP,
} from '../election/schedule.js';
import { boolean, jobInterval, leaseTtl, oneOf } from './validators.js';

/** An election's settings after defaults and validation. */
export interface ResolvedElection {
  readonly interval: number;
  readonly leaseTtl: number;
  /** Its leadership is spread over the nodes with the others balanced (`balance`). */
  readonly balance: boolean;
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
  'allowShortInterval',
  'balance',
] as const;

/** What every election takes from the module unless it sets its own. */
export interface ElectionDefaults {
  readonly interval: number;
  readonly leaseTtl: number;
  readonly allowShortInterval: boolean;
  readonly balance: boolean;
}

/** An election's interval (or cron schedule) and lease: its own where given, else the module's. */
export function resolveElection(
  defaults: ElectionDefaults,
  options: ElectionOptions = {},
  where = '',
): ResolvedElection {
  checkElectionKeys(options, where);
  const { cron, timeZone, catchUp } = options;
  if (options.interval !== undefined && cron !== undefined)
    throw new TypeError(intervalAndCron(where, options.interval, cron));
  if (cron === undefined) {
    if (timeZone !== undefined) throw new TypeError(onlyWithCron('timeZone', timeZone, where));
    if (catchUp !== undefined) throw new TypeError(onlyWithCron('catchUp', catchUp, where));
  }
  const allowShort = boolean(
    'allowShortInterval',
    options.allowShortInterval ?? defaults.allowShortInterval,
    where,
  );
  return {
    // The module's own was checked against the module's allowShortInterval.
    interval:
      options.interval === undefined
        ? defaults.interval
        : jobInterval('interval', options.interval, allowShort, where),
    leaseTtl: leaseTtl('leaseTtl', options.leaseTtl ?? defaults.leaseTtl, where),
    balance: boolean('balance', options.balance ?? defaults.balance, where),
    ...(cron !== undefined && {
      cron: {
        schedule: cronSchedule(where, cron, timeZone),
        catchUp: oneOf('catchUp', catchUp ?? DEFAULT_CATCH_UP, CATCH_UP_VALUES, where),
      },
    }),
  };
}

/** `@OnMaster` and `join` take the election settings only: a typo must not pass silently. */
export function checkElectionKeys(options: object, where: string): void {
  for (const [key, value] of Object.entries(options)) {
    if (!(ELECTION_OPTION_KEYS as readonly string[]).includes(key)) {
      const suggestion = didYouMean(key, ELECTION_OPTION_KEYS);
      throw new TypeError(unknownOption(key, value, ELECTION_OPTION_KEYS, suggestion, where));
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
        invalidOption('timeZone', timeZone, "an IANA time zone, e.g. 'Europe/Paris'", { where }),
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
        'cron',
        cron,
        `a cron expression in @nestjs/schedule's syntax, with an optional seconds field, e.g. '0 0 2 * * *'${reason}`,
        { where },
      ),
    );
  }
}
