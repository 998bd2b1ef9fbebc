import { randomBytes } from 'node:crypto';
import type {
  AcquireResult,
  ClaimResult,
  ConnectionSignal,
  FleetMember,
  KettleStore,
  SlotClaim,
  SlotClaimOptions,
} from './kettle-store.interface.js';
import { DEFAULT_KEY_PREFIX, slotKey } from './keys.js';
import { withRecorded } from './redis.store.js';
import { connectionOf, holderOf } from './lease.js';
import { ReleaseListeners } from './release-listeners.js';
import { TERM_KEY_LIFE_MS } from './scripts.js';
import { type Clock, systemClock } from '../utils/clock.js';

interface Held {
  lease: string;
  expiresAt: number;
}

/** A term, and when it is forgotten (see TERM_KEY_LIFE_MS): the next term is higher anyway. */
interface Term {
  term: number;
  expiresAt: number;
}

/** A run slot, forgotten after two intervals as the lastrun key is. */
interface LastRun {
  slot: number;
  expiresAt: number;
}

/** The last claimed slot of a schedule, and its term, as CLAIM_SLOT records them. */
interface ClaimedSlot {
  slot: number;
  term: number;
  schedule?: string;
  expiresAt: number;
}

/** One key space: what one Redis would hold for one key prefix. */
class MemorySpace {
  readonly locks = new Map<string, Held>();
  readonly terms = new Map<string, Term>();
  readonly lastRuns = new Map<string, LastRun>();
  /** By election name and schedule key, as slotKey() names them. */
  readonly slots = new Map<string, ClaimedSlot>();
  readonly released = new ReleaseListeners();
  /** The fleet of `balance`, by node id, as FLEET keeps it. */
  readonly fleet = new Map<string, { member: FleetMember; beatAt: number; expiresAt: number }>();
  /** The connection tokens of the stores open on it, as a Redis counts their subscribers. */
  readonly open = new Set<string>();
  private nextSweep = 0;

  /** Forgets what has expired, at most once a minute: elections that were left leave nothing. */
  sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + SWEEP_EVERY_MS;
    for (const map of [this.locks, this.terms, this.lastRuns, this.slots])
      for (const [name, entry] of map) if (entry.expiresAt <= now) map.delete(name);
  }
}

const SWEEP_EVERY_MS = 60_000;

/** Shared by every MemoryStore of this process with the same key prefix, as nodes share a Redis. */
const spaces = new Map<string, MemorySpace>();

/**
 * Leases in this process's memory, with the semantics of RedisStore: for local development, demos
 * and unit tests. It elects among the nodes of one process only.
 */
export class MemoryStore implements KettleStore {
  /** A slot claimed by a term is answered 'run' again when that term claims it again. */
  readonly sameTermReclaims = true;
  private readonly space: MemorySpace;
  private readonly unsubscribers = new Set<() => void>();
  readonly connectionSignal?: ConnectionSignal;
  private readonly token = randomBytes(8).toString('hex');

  /**
   * `clock` is the store's: leases expire, terms and slots are dated on its wall time (a test
   * gives the nodes and the store one controlled clock, so that a lease can run out). With
   * `crashDetection`, the store is open until closed, as a node's connections are: a lease of a
   * closed store may be taken over (ConnectionSignal).
   */
  constructor(
    keyPrefix = DEFAULT_KEY_PREFIX,
    private readonly clock: Clock = systemClock,
    { crashDetection = false }: { crashDetection?: boolean } = {},
  ) {
    let space = spaces.get(keyPrefix);
    if (!space) spaces.set(keyPrefix, (space = new MemorySpace()));
    this.space = space;
    if (crashDetection) {
      space.open.add(this.token);
      this.connectionSignal = {
        probe: async () => undefined,
        token: () => (space.open.has(this.token) ? this.token : undefined),
        // One connection for the store's life: it never reconnects.
        check: async (tokens) => ({
          connection: 0,
          live: new Set(tokens.filter((token) => space.open.has(token))),
        }),
        takeOver: async (name, lease, ttlMs) => this.acquireLease(name, lease, ttlMs, true),
      };
    }
  }

  acquire(name: string, lease: string, ttlMs: number): Promise<AcquireResult> {
    return this.acquireLease(name, lease, ttlMs);
  }

  /** As LEASES's acquire, or its take over. Every claim records its slot here (lastRuns). */
  private async acquireLease(
    name: string,
    lease: string,
    ttlMs: number,
    takeOver = false,
  ): Promise<AcquireResult> {
    const held = this.live(name);
    const token = held && takeOver ? connectionOf(held.lease) : undefined;
    const gone = token !== undefined && !this.space.open.has(token);
    if (held && !gone)
      return {
        acquired: false,
        holder: holderOf(held.lease),
        ttlMs: held.expiresAt - this.clock.wallNow(),
        lease: held.lease,
      };
    const now = this.clock.wallNow();
    this.space.sweep(now);
    this.space.locks.set(name, { lease, expiresAt: now + ttlMs });
    const last = this.space.terms.get(name);
    const term = Math.max(last && last.expiresAt > now ? last.term + 1 : 0, now);
    this.space.terms.set(name, { term, expiresAt: term + TERM_KEY_LIFE_MS });
    return { acquired: true, term, ...(gone && { tookOver: true }) };
  }

  async renew(name: string, lease: string, ttlMs: number): Promise<boolean> {
    const held = this.live(name);
    if (held?.lease !== lease) return false;
    held.expiresAt = this.clock.wallNow() + ttlMs;
    return true;
  }

  async release(name: string, lease: string): Promise<boolean> {
    if (this.live(name)?.lease !== lease) return false;
    this.space.locks.delete(name);
    // Like PUBLISH: listeners hear it after the caller's reply.
    setImmediate(() => this.space.released.notify(name));
    return true;
  }

  async holder(name: string): Promise<string | null> {
    const held = this.live(name);
    return held ? holderOf(held.lease) : null;
  }

  async claimRun(
    name: string,
    lease: string,
    intervalMs: number,
    ttlMs: number,
  ): Promise<ClaimResult> {
    const held = this.live(name);
    if (held?.lease !== lease) return { outcome: 'not-holder' };
    held.expiresAt = this.clock.wallNow() + ttlMs;
    const now = this.clock.wallNow();
    const mark = this.space.lastRuns.get(name);
    let last = mark && mark.expiresAt > now ? mark.slot : undefined;
    if (last !== undefined && last - now > intervalMs) last = undefined;
    if (last !== undefined && now < last + intervalMs)
      return { outcome: 'wait', waitMs: last + intervalMs - now };
    const slot = last !== undefined && now < last + 2 * intervalMs ? last + intervalMs : now;
    this.space.lastRuns.set(name, { slot, expiresAt: now + 2 * intervalMs });
    return { outcome: 'run', nextInMs: slot + intervalMs - now, slotMs: slot };
  }

  async claimSlot(
    name: string,
    lease: string,
    slotMs: number,
    ttlMs: number,
    options: SlotClaimOptions,
  ): Promise<SlotClaim> {
    const held = this.live(name);
    if (held?.lease !== lease) return { outcome: 'not-holder' };
    const now = this.clock.wallNow();
    held.expiresAt = now + ttlMs;
    const key = slotKey('', name, options.key);
    const found = this.space.slots.get(key);
    const mark = found && found.expiresAt > now ? found : undefined;
    return withRecorded(
      this.claimed(key, mark, slotMs, now, options),
      options,
      mark?.schedule,
      now,
    );
  }

  /** CLAIM_SLOT's decision, on the last claimed slot `mark` of `key`. */
  private claimed(
    key: string,
    mark: ClaimedSlot | undefined,
    slotMs: number,
    now: number,
    options: SlotClaimOptions,
  ): SlotClaim {
    let last = mark?.slot;
    const since = options.sinceLastMs;
    if (since !== undefined) {
      // As CLAIM_SLOT: the slot is the store's now, at least `since` after the last one.
      if (last !== undefined && last - now > since) last = undefined;
      if (last !== undefined && now - last < since)
        return { outcome: 'already-ran', lastSlotMs: last };
      slotMs = now;
    } else {
      // As CLAIM_SLOT: a slot this term claimed already is claimed again.
      if (last !== undefined && (slotMs < last || (slotMs === last && mark!.term !== options.term)))
        return { outcome: 'already-ran', lastSlotMs: last };
      if (slotMs > now) return { outcome: 'early', waitMs: slotMs - now };
      if (now - slotMs > options.graceMs && !(options.catchUp && last !== undefined))
        return { outcome: 'late', lateMs: now - slotMs };
    }
    this.space.slots.set(key, {
      slot: slotMs,
      term: options.term,
      schedule: options.schedule,
      expiresAt: now + options.keepMs,
    });
    return { outcome: 'run' };
  }

  async heartbeat(member: FleetMember, ttlMs: number): Promise<FleetMember[]> {
    const now = this.clock.wallNow();
    const { fleet } = this.space;
    const old = fleet.get(member.nodeId);
    const beats = old && old.expiresAt > now ? old.member.beats + 1 : 1;
    if (ttlMs > 0)
      fleet.set(member.nodeId, {
        member: { ...member, beats },
        beatAt: now,
        expiresAt: now + ttlMs,
      });
    else fleet.delete(member.nodeId);
    const live: FleetMember[] = [];
    for (const [nodeId, entry] of fleet)
      if (entry.expiresAt > now) live.push({ ...entry.member, ageMs: now - entry.beatAt });
      else fleet.delete(nodeId);
    return live;
  }

  onReleased(listener: (name: string) => void, only?: string): () => void {
    const remove = this.space.released.add(listener, only);
    const unsubscribe = () => {
      remove();
      this.unsubscribers.delete(unsubscribe);
    };
    this.unsubscribers.add(unsubscribe);
    return unsubscribe;
  }

  async close(): Promise<void> {
    for (const unsubscribe of this.unsubscribers) unsubscribe();
    this.space.open.delete(this.token);
  }

  private live(name: string): Held | undefined {
    const held = this.space.locks.get(name);
    if (held && held.expiresAt <= this.clock.wallNow()) {
      this.space.locks.delete(name);
      return undefined;
    }
    return held;
  }
}
