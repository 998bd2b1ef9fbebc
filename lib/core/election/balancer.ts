import type { KettleLogger } from '../interfaces/kettle-options.interface.js';
import { rebalancing } from '../kettle.messages.js';
import type { FleetMember, KettleStore } from '../store/kettle-store.interface.js';
import type { Clock } from '../utils/clock.js';
import { withTimeout } from '../utils/promise-timeout.js';
import { fairTargets, preferredNode, surplusOf, targetOf, withSelf } from './fair-share.js';
import { BALANCE_DEFER_MS } from './timing.js';

/** What the balancer needs to know of one balanced election, and do with it. */
export interface BalancedElection {
  readonly name: string;
  /** Master and not handing over: it counts in what this node leads. */
  readonly leads: boolean;
  /** A job of it runs now: handed over last, as its hand-over waits for the run. */
  readonly busy: boolean;
}

export interface BalancerConfig {
  readonly nodeId: string;
  readonly store: KettleStore & Required<Pick<KettleStore, 'heartbeat'>>;
  readonly clock: Clock;
  /** The module's lease: a node that stops beating drops out of the fleet after about this long. */
  readonly leaseTtl: number;
  /** This node's balanced elections now. */
  readonly elections: () => Iterable<BalancedElection>;
  /** Hands election `name` over (resign, for `rebalanced`). */
  readonly handOver: (name: string) => void;
  readonly logger: KettleLogger;
  readonly verbose: boolean;
}

/** Beats at least this often... */
const MIN_PERIOD_MS = 100;
/** ...and at most this seldom, whatever the lease. */
const MAX_PERIOD_MS = 10_000;

/**
 * Spreads the leadership of a node's balanced elections over the live nodes (`balance`). Every
 * renew period it tells the store what it leads (`heartbeat`) and hears the fleet back; then:
 * - while it leads its share or more (fairTargets: E / N, rounded up for some nodes), it contends
 *   for a free lease `BALANCE_DEFER_MS` later than a node under its share (`deferMs`), so the
 *   latter gets it;
 * - when it leads more than its share while others lead less, and no node is further over, it
 *   hands the surplus over by resigning it: released, the others hear of it at once.
 *
 * It only ever gives leases up: it never takes one that is held, and no rule of the leases
 * changes. What is not guaranteed: a share is worked out from a view of the fleet up to one
 * period old, so a node may briefly lead one or two over it; a node that takes part in elections
 * the others do not join is counted as if they did (see fairShare).
 */
export class Balancer {
  readonly periodMs: number;
  /** How long a record lives unrefreshed: three periods, and at least a lease. */
  readonly ttlMs: number;
  private fleet?: { readonly members: readonly FleetMember[]; readonly seenAt: number };
  /**
   * What this turn's contend decisions read: one count of what this node leads for all of them
   * (a release of many elections is heard in one turn). Dropped on the next turn.
   */
  private turnView?: {
    readonly leading: number;
    readonly target: number;
    readonly under: string[];
  };
  /** When this node was last told to contend at once: such a lease counts as led for a moment. */
  private readonly grants: number[] = [];
  private timer?: unknown;
  private running = false;
  private beating?: Promise<void>;

  constructor(private readonly config: BalancerConfig) {
    const renewEvery = Math.floor(config.leaseTtl / 3);
    this.periodMs = Math.min(MAX_PERIOD_MS, Math.max(MIN_PERIOD_MS, renewEvery));
    this.ttlMs = Math.max(config.leaseTtl, 3 * this.periodMs);
  }

  /**
   * Starts beating, one period from now: by then this node's elections have contended once and it
   * hears releases, so the surplus the others hand it on seeing it is not lost to a node that was
   * there first. Idempotent; after `stop()`, a no-op.
   */
  start(): void {
    if (this.running || this.timer === null) return;
    this.running = true;
    this.timer = this.config.clock.setTimeout(() => this.beat(), this.periodMs);
  }

  /**
   * How much later than at once this node should contend for balanced election `name`, free now:
   * - 0 when it leads less than its share and, of the nodes that lead less than theirs, it is the
   *   one this election goes to first (preferredNode), or it knows no recent view of the fleet;
   * - half of BALANCE_DEFER_MS when it leads less than its share, but another node under its own
   *   comes first (in case that one does not take it);
   * - BALANCE_DEFER_MS when it leads its share, counting those it was just told to take.
   */
  deferMs(name: string): number {
    const view = this.viewOfThisTurn();
    if (!view) return 0;
    const now = this.config.clock.now();
    while (this.grants.length > 0 && now - this.grants[0] > BALANCE_DEFER_MS) this.grants.shift();
    if (view.leading + this.grants.length >= view.target) return BALANCE_DEFER_MS;
    if (preferredNode(name, view.under) !== this.config.nodeId) return BALANCE_DEFER_MS / 2;
    this.grants.push(now);
    return 0;
  }

  private viewOfThisTurn(): typeof this.turnView {
    const fleet = this.fleet;
    if (!fleet || this.config.clock.now() - fleet.seenAt > this.ttlMs) return undefined;
    if (this.turnView) return this.turnView;
    const self = this.self();
    const members = withSelf(fleet.members, self);
    const targets = fairTargets(members);
    const under = members
      .filter((member) => member.leading < (targets.get(member.nodeId) ?? -Infinity))
      .map((member) => member.nodeId);
    this.turnView = { leading: self.leading, target: targets.get(self.nodeId) ?? Infinity, under };
    setImmediate(() => (this.turnView = undefined));
    return this.turnView;
  }

  /** Stops beating and takes this node out of the fleet (within `timeoutMs`; never rejects). */
  async stop(timeoutMs: number): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    this.config.clock.clearTimeout(this.timer);
    this.timer = null;
    if (!wasRunning) return;
    await this.beating;
    const leave = this.config.store.heartbeat({ ...this.self(), leading: 0 }, 0);
    await withTimeout(leave, Math.max(1, timeoutMs), 'the store').catch(() => undefined);
  }

  private beat(): void {
    const self = this.self();
    const { store, clock } = this.config;
    const sentAt = clock.now();
    this.beating = Promise.resolve()
      .then(() => (self.balanced > 0 ? store.heartbeat(self, this.ttlMs) : undefined))
      .then(
        (members) => {
          if (!members || !this.running) return;
          this.fleet = { members, seenAt: sentAt };
          this.rebalance(members);
        },
        // An outage is the elections' to report; the last view ages out (deferMs).
        () => undefined,
      )
      .finally(() => {
        if (this.running) this.timer = clock.setTimeout(() => this.beat(), this.periodMs);
      });
  }

  private rebalance(members: readonly FleetMember[]): void {
    const self = this.self();
    const surplus = surplusOf(members, self);
    if (surplus === 0) return;
    const led = [...this.config.elections()].filter((election) => election.leads);
    // Idle ones first: a busy one's hand-over waits for its run.
    led.sort((a, b) => Number(a.busy) - Number(b.busy));
    const handing = led.slice(0, surplus).map((election) => election.name);
    const { logger, verbose } = this.config;
    const nodes = withSelf(members, self).filter((member) => member.balanced > 0).length;
    const line = rebalancing(self.leading, targetOf(members, self), nodes, handing);
    if (verbose) logger.log(line);
    else logger.debug(line);
    for (const name of handing) this.config.handOver(name);
  }

  private self(): FleetMember {
    let balanced = 0;
    let leading = 0;
    for (const election of this.config.elections()) {
      balanced++;
      if (election.leads) leading++;
    }
    return { nodeId: this.config.nodeId, leading, balanced };
  }
}
