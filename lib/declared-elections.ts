import type {
  ElectionDeclaration,
  LeadershipHandler,
  MasterJob,
} from './core/election/election-config.js';
import type { ElectionOptions } from './core/interfaces/kettle-options.interface.js';
import type { LeadershipChange } from './core/interfaces/leadership-change.interface.js';
import type { MasterContext } from './core/interfaces/master-context.interface.js';
import { checkElectionKeys, ELECTION_OPTION_KEYS } from './core/options/election-options.js';
import { parseDuration } from './core/utils/duration.js';
import {
  clashingOptions,
  invalidDecoratorOptions,
  scheduleOption,
} from './core/kettle.messages.js';

/** What the schedule of @nestjs/schedule decides instead. */
const SCHEDULE_OPTIONS = ['interval', 'cron', 'timeZone', 'catchUp'] as const;

interface Found {
  settings: ElectionOptions;
  jobs: MasterJob[];
  onElected: LeadershipHandler<MasterContext>[];
  onRevoked: LeadershipHandler<LeadershipChange>[];
  /** The first method that named the election, for errors about it. */
  firstDeclared: string;
}

/**
 * What the explorer found, per election name: the `@OnMaster` jobs (whose settings must agree,
 * since they share one election) and the `@OnElected` / `@OnRevoked` handlers.
 */
export class DeclaredElections {
  private readonly found = new Map<string, Found>();

  addJob(name: string, options: unknown, job: MasterJob): void {
    this.addSettings(name, options, job.id).jobs.push(job);
  }

  /**
   * An `@OnMaster` method that @nestjs/schedule fires: it joins the election (leadership only, no
   * interval job); the schedule decides when, so `interval`, `cron`, `timeZone` and `catchUp` are
   * refused.
   */
  addScheduled(name: string, options: unknown, id: string): void {
    for (const option of SCHEDULE_OPTIONS) {
      if ((options as ElectionOptions | null)?.[option] !== undefined) {
        throw new TypeError(scheduleOption(name, id, option));
      }
    }
    this.addSettings(name, options, id);
  }

  /** Checks one `@OnMaster`'s options and merges them into its election's: they must agree. */
  private addSettings(name: string, options: unknown, id: string): Found {
    const where = `@OnMaster(${JSON.stringify(name)}) on ${id}: `;
    if (options === null || typeof options !== 'object') {
      throw new TypeError(invalidDecoratorOptions(name, id));
    }
    checkElectionKeys(options, where);
    const election = this.election(name, where);
    const settings = options as ElectionOptions;
    for (const key of ELECTION_OPTION_KEYS) {
      const [mine, theirs] = [settings[key], election.settings[key]];
      if (mine === undefined) continue;
      if (theirs !== undefined && !sameSetting(theirs, mine))
        throw new Error(clashingOptions(name, key, theirs, mine));
      (election.settings as Record<string, unknown>)[key] = mine;
    }
    return election;
  }

  addElectedHandler(name: string, handler: LeadershipHandler<MasterContext>): void {
    this.election(name, `@OnElected(${JSON.stringify(name)}) on ${handler.id}: `).onElected.push(
      handler,
    );
  }

  addRevokedHandler(name: string, handler: LeadershipHandler<LeadershipChange>): void {
    this.election(name, `@OnRevoked(${JSON.stringify(name)}) on ${handler.id}: `).onRevoked.push(
      handler,
    );
  }

  /**
   * Each election with its declaration, and where to say it was declared: its first `@OnMaster`
   * (the settings come from there), else its first handler.
   */
  *elections(): Iterable<[string, ElectionDeclaration, string]> {
    for (const [name, { firstDeclared, ...declaration }] of this.found) {
      const where = declaration.jobs[0]
        ? `@OnMaster(${JSON.stringify(name)}) on ${declaration.jobs[0].id}: `
        : firstDeclared;
      yield [name, declaration, where];
    }
  }

  private election(name: string, where: string): Found {
    let election = this.found.get(name);
    if (!election) {
      election = { settings: {}, jobs: [], onElected: [], onRevoked: [], firstDeclared: where };
      this.found.set(name, election);
    }
    return election;
  }
}

/** `'30s'` and `30000` are one interval; anything that is not a duration compares as it is. */
function sameSetting(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const [msA, msB] = [parseDuration(a), parseDuration(b)];
  return msA !== undefined && msA === msB;
}
