import type { KettleLogger } from '../interfaces/kettle-options.interface.js';
import type { LeadershipChange } from '../interfaces/leadership-change.interface.js';
import { rebalancing } from '../kettle.messages.js';
import type { FleetMember, KettleStore } from '../store/kettle-store.interface.js';
import type { Clock } from '../utils/clock.js';
import { withTimeout } from '../utils/promise-timeout.js';
import {
  electionsGroup,
  fairTargets,
  groupSimilarity,
  preferenceRank,
  preferredNode,
  surplusOf,
  withSelf,
} from './fair-share.js';
import { BALANCE_DEFER_MS } from './timing.js';

export interface BalancerConfig {
  readonly nodeId: string;
  readonly store: KettleStore & Required<Pick<KettleStore, 'heartbeat'>>;
  readonly clock: Clock;
  /** The module's lease: a node that stops beating drops out of the fleet after about this long. */
  readonly leaseTtl: number;
  /** True while a job of election `name` runs on this node: it is not handed over then. */
  readonly busy: (name: string) => boolean;
  /** Hands election `name` over (resign, for `rebalanced`). */
  readonly handOver: (name: string) => void;
  readonly logger: KettleLogger;
  readonly verbose: boolean;
}

/** Beats at least this often... */
const MIN_PERIOD_MS = 100;
/** ...and at most this seldom, whatever the lease. */
const MAX_PERIOD_MS = 10_000;
/** A hand-over the others did not take makes the next wait up to this many beats. */
const MAX_BACKOFF_BEATS = 16;
/** Nodes balance with those whose election sets agree this much at least (groupSimilarity). */
const SAME_GROUP = 0.7;
/**
 * A node that beat within this many periods, counting the age of the view, is taken as alive
 * when ordering who goes first: live nodes' beats are up to a period old, and the view as much.
 */
const LATELY_PERIODS = 2.5;
/** Beats a node over its share with only busy elections waits before it hands busy ones over. */
const BUSY_BEATS = 3;

/** A hand-over, until the beats after it show whether the nodes it was for took anything. */
interface HandOver {
  /** What each node under its share led when it was handed over. */
  readonly under: ReadonlyMap<string, number>;
  beatsLeft: number;
}

/**
 * Spreads the leadership of a node's balanced elections over the live nodes (`balance`). Every
 * renew period it tells the store what it leads (`heartbeat`) and hears the fleet back; it
 * balances only with the nodes that take part in the same balanced elections (`group`). Then:
 * - when a lease is free, it contends at once, a little later, or 250 ms later (`deferMs`), so
 *   that the nodes under their share take it, spread among them;
 * - when it leads more than its share while others lead less, and no node is further over, it
 *   hands the surplus over by resigning it: released, the others hear of it at once. If the
 *   beats after show that none of them took anything, or this node wins a lease over its share
 *   (a node that died after its last beat did not take it), it waits before it hands over again,
 *   twice as many beats each time until a hand-over is taken.
 *
 * It only ever gives leases up: it never takes one that is held, and no rule of the leases
 * changes. What is not guaranteed: a share is worked out from a view of the fleet up to one
 * period old, so a node may briefly lead more than its share.
 */
export class Balancer {
  readonly periodMs: number;
  /** How long a record lives unrefreshed: three periods, and at least a lease. */
  readonly ttlMs: number;
  /** This node's balanced elections, those it leads, and those of them it is handing over. */
  private readonly balanced = new Set<string>();
  private readonly leading = new Set<string>();
  private readonly handingOver = new Set<string>();
  /** The group of `balanced`, worked out again only after it changed. */
  private group?: string;
  private fleet?: { readonly members: readonly FleetMember[]; readonly seenAt: number };
  /** When this node was last told to contend at once: such a lease counts as led for a moment. */
  private readonly grants: number[] = [];
  private lastHandOver?: HandOver;
  private backoffBeats = 1;
  private quietBeats = 0;
  /** Beats in a row this node was over its share with nothing idle to hand over. */
  private busyBeats = 0;
  /** Its record is in the fleet: a node that leaves its last balanced election takes it out. */
  private recorded = false;
  /** Nodes whose connections closed (crashDetection), and when: dead, whatever their record says. */
  private readonly crashedAt = new Map<string, number>();
  private timer?: unknown;
  private running = false;
  private stopped = false;

  constructor(private readonly config: BalancerConfig) {
    const renewEvery = Math.floor(config.leaseTtl / 3);
    this.periodMs = Math.min(MAX_PERIOD_MS, Math.max(MIN_PERIOD_MS, renewEvery));
    this.ttlMs = Math.max(config.leaseTtl, 3 * this.periodMs);
  }

  /** Election `name` is balanced on this node from now on. */
  add(name: string): void {
    this.balanced.add(name);
    this.group = undefined;
  }

  /** Election `name` was left (nothing, if it was not balanced). */
  remove(name: string): void {
    if (!this.balanced.delete(name)) return;
    this.leading.delete(name);
    this.handingOver.delete(name);
    this.group = undefined;
  }

  /** Every leadership change of this node: what it leads, counted as it goes (no walk of them all). */
  changed({ name, isMaster }: LeadershipChange): void {
    if (!this.balanced.has(name)) return;
    if (!isMaster) {
      this.leading.delete(name);
      this.handingOver.delete(name);
      return;
    }
    this.leading.add(name);
    // Won over its share: the nodes under theirs did not take it, as the view said they would
    // (one died after its last beat, say). Handing over again now would only pass it to and fro.
    if (this.fleet && this.self().leading > this.targetNow()) this.backOff();
  }

  /**
   * Starts beating, one period from now: by then this node's elections have contended once and it
   * hears releases, so the surplus the others hand it on seeing it is not lost to a node that was
   * there first. Idempotent; after `stop()`, a no-op.
   */
  start(): void {
    if (this.running || this.stopped) return;
    this.running = true;
    this.timer = this.config.clock.setTimeout(() => this.beat(), this.periodMs);
  }

  /**
   * How much later than at once this node should contend for balanced election `name`, free now
   * (an at-once answer counts in what this node is about to lead for a moment):
   * - 0 when it leads less than its share and, of the live nodes that lead less than theirs, it
   *   is the one this election goes to first (preferredNode), or it knows no recent view;
   * - half of BALANCE_DEFER_MS when it leads less than its share, but another node under its own
   *   comes first (in case that one does not take it);
   * - BALANCE_DEFER_MS when it leads its share, counting those it was just told to take, and half
   *   as much again for each place it comes after the first in the election's order among the
   *   live nodes (preferenceRank), twice at most: with nobody under their share (a node just left
   *   or died, not yet out of the view), its leases still spread, those that went first to the
   *   node that left included.
   */
  deferMs(name: string): number {
    const fleet = this.fleet;
    const now = this.config.clock.now();
    if (!fleet || now - fleet.seenAt > this.ttlMs) return 0;
    while (this.grants.length > 0 && now - this.grants[0] > BALANCE_DEFER_MS) this.grants.shift();
    const self = this.self();
    const members = withSelf(fleet.members, self);
    const targets = fairTargets(members);
    // Who may go first: nodes that beat lately (a dead node's leases, free at its lease's end,
    // go to the living), counting the age of this view.
    const seenLately = (member: FleetMember) =>
      member.nodeId === self.nodeId ||
      member.ageMs + (now - fleet.seenAt) <= LATELY_PERIODS * this.periodMs;
    if (self.leading + this.grants.length >= (targets.get(self.nodeId) ?? Infinity)) {
      const alive = members.filter(seenLately).map((member) => member.nodeId);
      const rank = Math.min(preferenceRank(name, alive, self.nodeId), 2);
      return BALANCE_DEFER_MS * (1 + rank / 2);
    }
    const under = members
      .filter(
        (member) =>
          member.leading < (targets.get(member.nodeId) ?? -Infinity) && seenLately(member),
      )
      .map((member) => member.nodeId);
    if (preferredNode(name, under) !== this.config.nodeId) return BALANCE_DEFER_MS / 2;
    this.grants.push(now);
    return 0;
  }

  /**
   * Node `nodeId`'s connections closed: it died. Out of this node's view of the fleet at once,
   * rather than once its record ages out, so that its elections go to the living by their shares;
   * a record it writes after this (it came back) counts again.
   */
  crashed(nodeId: string): void {
    if (nodeId === this.config.nodeId) return;
    const now = this.config.clock.now();
    this.crashedAt.set(nodeId, now);
    const fleet = this.fleet;
    if (fleet)
      this.fleet = { ...fleet, members: fleet.members.filter((m) => !this.isCrashed(m, now)) };
  }

  /** A record last written before its node was seen to crash; a mark is kept for a record's life. */
  private isCrashed(member: FleetMember, seenAt: number): boolean {
    const crashedAt = this.crashedAt.get(member.nodeId);
    if (crashedAt === undefined) return false;
    if (seenAt - crashedAt > this.ttlMs) {
      this.crashedAt.delete(member.nodeId);
      return false;
    }
    return seenAt - member.ageMs <= crashedAt;
  }

  /** Stops beating and takes this node out of the fleet (within `timeoutMs`; never rejects). */
  async stop(timeoutMs: number): Promise<void> {
    const wasRunning = this.running;
    this.running = false;
    this.stopped = true;
    this.config.clock.clearTimeout(this.timer);
    // Sent after any beat on its way, on the same connection: Redis takes them in that order.
    if (wasRunning) await this.send({ ...this.self(), leading: 0 }, 0, timeoutMs).catch(() => 0);
  }

  private beat(): void {
    const self = this.self();
    if (self.balanced === 0) {
      // Left its last balanced election: out of the fleet now, not a lease from now.
      if (this.recorded) {
        this.recorded = false;
        void this.send(self, 0, this.periodMs).catch(() => undefined);
      }
      return this.next();
    }
    this.group ??= electionsGroup(this.balanced);
    const group = this.group;
    const sentAt = this.config.clock.now();
    this.recorded = true;
    void this.send({ ...self, group }, this.ttlMs, this.periodMs)
      .then(
        (members) => {
          if (!this.running) return;
          // Only the nodes in mostly the same elections: shares elsewhere say nothing of these.
          const peers = members.filter(
            (member) =>
              groupSimilarity(member.group, group) >= SAME_GROUP && !this.isCrashed(member, sentAt),
          );
          this.fleet = { members: peers, seenAt: sentAt };
          this.rebalance(peers);
        },
        // An outage is the elections' to report; the last view ages out (deferMs).
        () => undefined,
      )
      .finally(() => this.next());
  }

  private next(): void {
    if (this.running) this.timer = this.config.clock.setTimeout(() => this.beat(), this.periodMs);
  }

  /** A heartbeat that gets no answer in time fails, and is told to the store as any command is. */
  private send(self: FleetMember, ttlMs: number, timeoutMs: number): Promise<FleetMember[]> {
    const { store, clock } = this.config;
    const sentAt = clock.now();
    return withTimeout(
      Promise.resolve().then(() => store.heartbeat(self, ttlMs)),
      Math.max(1, timeoutMs),
      'heartbeat',
      () => store.commandTimedOut?.(clock.now() - sentAt),
      clock,
    );
  }

  private rebalance(members: readonly FleetMember[]): void {
    if (!this.shouldHandOver(members)) return;
    const self = this.self();
    // Beaten twice at least, and lately: a node that stopped beating may be dead.
    const canTake = (member: FleetMember) =>
      member.beats >= 2 && member.ageMs <= 1.5 * this.periodMs;
    const surplus = surplusOf(members, self, canTake);
    if (surplus === 0) return void (this.busyBeats = 0);
    // Idle ones first: a running job is not cut short for a preference while a later beat may
    // find it idle; one that is never idle (a job that runs while its node leads) goes after a
    // few beats, its signal aborted as at any hand-over.
    const handing: string[] = [];
    const withBusy = this.busyBeats >= BUSY_BEATS;
    for (const name of this.leading) {
      if (handing.length === surplus) break;
      if (!this.handingOver.has(name) && (withBusy || !this.config.busy(name))) handing.push(name);
    }
    if (handing.length === 0) return void this.busyBeats++;
    this.busyBeats = 0;
    const fleet = withSelf(members, self);
    const targets = fairTargets(fleet);
    const under = fleet.filter(
      (m) => m.leading < (targets.get(m.nodeId) ?? -Infinity) && canTake(m),
    );
    this.lastHandOver = {
      under: new Map(under.map((member) => [member.nodeId, member.leading])),
      beatsLeft: 2,
    };
    const { logger, verbose } = this.config;
    const line = rebalancing(self.leading, targets.get(self.nodeId)!, fleet.length, handing);
    if (verbose) logger.log(line);
    else logger.debug(line);
    for (const name of handing) {
      this.handingOver.add(name);
      this.config.handOver(name);
    }
  }

  /**
   * After a hand-over, waits for the beats that show whether the nodes it was for took anything
   * (theirs come on their own period): yes, and it may hand over again; no, and it waits twice as
   * many beats as the last time before it does.
   */
  private shouldHandOver(members: readonly FleetMember[]): boolean {
    const last = this.lastHandOver;
    if (last) {
      const took = members.some((m) => m.leading > (last.under.get(m.nodeId) ?? Infinity));
      if (took) {
        this.lastHandOver = undefined;
        this.backoffBeats = 1;
      } else if (--last.beatsLeft > 0) {
        return false;
      } else {
        this.lastHandOver = undefined;
        this.backOff();
      }
    }
    if (this.quietBeats > 0) {
      this.quietBeats--;
      return false;
    }
    return true;
  }

  /** Hands nothing over for the next `backoffBeats` beats, and twice as many the time after. */
  private backOff(): void {
    if (this.quietBeats > 0) return;
    this.quietBeats = this.backoffBeats;
    this.backoffBeats = Math.min(MAX_BACKOFF_BEATS, this.backoffBeats * 2);
  }

  /** This node's share in the last view of the fleet. */
  private targetNow(): number {
    const self = this.self();
    return fairTargets(withSelf(this.fleet?.members ?? [], self)).get(self.nodeId) ?? Infinity;
  }

  /**
   * This node as it stands now; `beats` and `ageMs` are the store's to tell, and `group` is
   * worked out at a beat only (it costs a pass over the elections).
   */
  private self(): FleetMember {
    return {
      nodeId: this.config.nodeId,
      leading: this.leading.size - this.handingOver.size,
      balanced: this.balanced.size,
      group: this.group ?? '',
      beats: 0,
      ageMs: 0,
    };
  }
}
