import { Injectable } from '@nestjs/common';
import { type HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { KettleService } from '../kettle.service.js';
import type { Duration } from '../core/utils/duration.js';
import { duration } from '../core/options/validators.js';

/** The default of terminus's own ping checks; a probe's timeoutSeconds should exceed it. */
const DEFAULT_HEALTH_TIMEOUT_MS = 1000;

/** `KettleHealthIndicator.isHealthy(key, options)`. */
export interface KettleHealthOptions {
  /** How long the store may take to answer before the check is down: ms, or e.g. `'2s'` (default 1000). */
  timeout?: Duration;
}

/** One election this node takes part in, as the health check reports it. */
export interface ElectionHealth {
  role: 'master' | 'follower';
  /** The term of this node's current leadership; null when follower. */
  term: number | null;
  /** Node id of the holder as the store says, null when nobody holds it; absent when it did not answer. */
  master?: string | null;
  /** Milliseconds of lease left on this node's clock; 0 when follower. */
  leaseLeftMs: number;
}

/**
 * A @nestjs/terminus health indicator: up while kettle's store answers, whatever this node's role;
 * down, with the reason (the KettleStoreError's message), when it does not answer within the
 * timeout. Meant for readiness probes: as a liveness probe it would restart every replica during
 * an outage of the store.
 */
@Injectable()
export class KettleHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly kettle: KettleService,
  ) {}

  /** Details: `nodeId`, and `elections` keyed by name (role, term, master, leaseLeftMs). */
  async isHealthy<const Key extends string = 'kettle'>(
    key: Key = 'kettle' as Key,
    options: KettleHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    // A bad timeout is the caller's mistake, not the store's: thrown, naming it.
    const timeoutMs = duration('timeout', options.timeout ?? DEFAULT_HEALTH_TIMEOUT_MS, 1);
    const check = this.health.check(key);
    const { nodeId } = this.kettle;
    const names = this.kettle.names();
    // Nothing on this node depends on the store until it joins an election.
    if (names.length === 0) return check.up({ nodeId, elections: {} });
    let masters: Array<string | null>;
    try {
      // Each read within the timeout; a failure is a KettleStoreError that says why.
      masters = await Promise.all(names.map((name) => this.kettle.getMaster(name, { timeoutMs })));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      return check.down({ message, nodeId, elections: this.elections(names) });
    }
    return check.up({ nodeId, elections: this.elections(names, masters) });
  }

  /** This node's view of each election, read after the store answered so that it is as fresh. */
  private elections(names: string[], masters?: Array<string | null>) {
    const entries = names.flatMap((name, index): Array<[string, ElectionHealth]> => {
      const stats = this.kettle.stats(name);
      if (!stats) return []; // left meanwhile
      const election: ElectionHealth = {
        role: stats.isMaster ? 'master' : 'follower',
        term: stats.term,
        ...(masters && { master: masters[index] }),
        leaseLeftMs: Math.round(stats.leaseLeftMs),
      };
      return [[name, election]];
    });
    return Object.fromEntries(entries);
  }
}
