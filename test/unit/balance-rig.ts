import { Kettle } from '../../lib/core/kettle.js';
import type { LeadershipChange } from '../../lib/core/interfaces/leadership-change.interface.js';
import type { MasterContext } from '../../lib/core/interfaces/master-context.interface.js';
import { MemoryStore } from '../../lib/core/store/memory.store.js';
import type { Clock } from '../../lib/core/utils/clock.js';
import { ManualClock } from './manual-clock.js';

export const BALANCE_LEASE = 3000;

/** `count` election names: `job-0`, `job-1`... */
export const jobs = (count: number, stem = 'job') =>
  Array.from({ length: count }, (_, i) => `${stem}-${i}`);

const quiet = { log() {}, warn() {}, error() {}, debug() {} };

export interface FleetNodeOptions {
  /** The balanced elections it joins. Default: job-0 … job-29. */
  readonly elections?: readonly string[];
  /** Each election's job. Default: one that ends at once. */
  readonly run?: (context: MasterContext) => unknown;
  /** Its clock, when not the fleet's: one that stops firing stands for a node that died. */
  readonly clock?: Clock;
  readonly balance?: boolean;
  /** Default BALANCE_LEASE. */
  readonly leaseTtl?: number;
  /** crashDetection 'connection': closing its store is a crash that the others see. */
  readonly crashDetection?: boolean;
}

/**
 * Nodes of one process that balance their elections on one controlled clock, each with its own
 * MemoryStore of one key prefix (as nodes share a Redis), and every leadership change they make.
 */
export class BalanceFleet {
  readonly clock = new ManualClock();
  /** The nodes `stopAll()` stops. */
  nodes: Kettle[] = [];
  readonly changes: Array<LeadershipChange & { node: string; at: number }> = [];

  /** A node that joins `options.elections` and starts; stopped by `stopAll()` unless it died. */
  node(id: string, prefix: string, options: FleetNodeOptions = {}): Kettle {
    const { elections = jobs(30), run = () => undefined, clock, balance = true } = options;
    const { leaseTtl = BALANCE_LEASE, crashDetection = false } = options;
    const kettle = new Kettle({
      nodeId: id,
      store: new MemoryStore(prefix, this.clock, { crashDetection }),
      leaseTtl,
      crashDetection: crashDetection ? 'connection' : 'lease',
      interval: 1000,
      balance,
      logger: quiet,
      shutdownTimeout: 1000,
    });
    kettle.clock = clock ?? this.clock;
    for (const name of elections) kettle.join(name, { run });
    kettle.onChange((change) => this.changes.push({ ...change, node: id, at: this.clock.now() }));
    kettle.start();
    if (!clock) this.nodes.push(kettle);
    return kettle;
  }

  /** A clock that stops firing once `die()` is called: no timer of its node runs again. */
  dyingClock(): { clock: Clock; die: () => void } {
    let dead = false;
    const { clock } = this;
    return {
      clock: {
        now: () => clock.now(),
        wallNow: () => clock.wallNow(),
        setTimeout: (callback, ms) => clock.setTimeout(() => dead || callback(), ms),
        clearTimeout: (timer) => clock.clearTimeout(timer),
      },
      die: () => (dead = true),
    };
  }

  /** Leaderships handed over by balancing after `since`, on the fleet's clock. */
  handedOverSince(since: number): number {
    return this.changes.filter((change) => change.reason === 'rebalanced' && change.at > since)
      .length;
  }

  /** Stops every node that did not die, and forgets them and their changes. */
  async stopAll(): Promise<void> {
    const stopping = Promise.all(this.nodes.map((node) => node.stop()));
    await this.clock.advance(20_000);
    await stopping;
    this.nodes = [];
    this.changes.length = 0;
  }
}
