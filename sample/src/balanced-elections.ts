import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { KettleService } from 'nestjs-kettle';

/**
 * How many elections with `balance: true` the app joins besides its jobs' (BALANCED_ELECTIONS,
 * default none): `job-1` … `job-N`, whose leadership kettle spreads over the live nodes. The demo
 * sets it (`npm run demo -- --elections N`) to show the spread.
 */
export const BALANCED_ELECTIONS = Symbol('BALANCED_ELECTIONS');

/** BALANCED_ELECTIONS as the environment gives it; anything but a whole number fails the start. */
export function balancedElectionCount(value: string | undefined): number {
  const count = Number(value || 0);
  if (!Number.isInteger(count) || count < 0)
    throw new Error(`BALANCED_ELECTIONS must be a whole number, 0 or more: ${value}`);
  return count;
}

/** `job-1` … `job-<count>`. */
export function balancedElectionNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `job-${i + 1}`);
}

/** Joins the balanced elections: leadership alone, no job, so that only the spread shows. */
@Injectable()
export class BalancedElections implements OnModuleInit {
  readonly names: readonly string[];

  constructor(
    private readonly kettle: KettleService,
    @Inject(BALANCED_ELECTIONS) count: number,
  ) {
    this.names = balancedElectionNames(count);
  }

  onModuleInit(): void {
    // Joined before the bootstrap: they contend from kettle's start, with the jobs' elections.
    for (const name of this.names) this.kettle.join(name, { balance: true });
  }
}
