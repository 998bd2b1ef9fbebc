import {
  CLAIM_CHECK,
  CLAIM_MARK,
  DISCARD,
  RAISE_TERM,
  RENEW_OR_TAKE_BACK,
  SLOT_CHECK,
  SLOT_MARK,
} from './quorum-scripts.js';
import type { SlotClaimOptions } from './kettle-store.interface.js';
import { RedisStore, type RedisStoreOptions, sinceLastMs } from './redis.store.js';

/**
 * What one server says about a slot: the last claimed slot (null when none), how late the slot is
 * on this server's clock (negative while it is in the future), and how long ago the last slot is
 * on that clock.
 */
export type SlotCheck =
  | { readonly holder: false }
  | {
      readonly holder: true;
      readonly lastSlotMs: number | null;
      readonly lateMs: number;
      readonly sinceLastMs: number;
      /** The term that claimed the last slot, or null. */
      readonly lastTerm: number | null;
      /** The schedule recorded with the last slot, or null. */
      readonly lastSchedule: string | null;
    };

/** What one server says about the last run: `sinceMs` is null when none is marked. */
export type RunCheck =
  { readonly holder: false } | { readonly holder: true; readonly sinceMs: number | null };

interface QuorumCommands {
  kettleRaiseTerm(lock: string, term: string, lease: string, value: number): Promise<number>;
  kettleDiscard(lock: string, lease: string): Promise<number>;
  kettleRenewOrTakeBack(lock: string, lease: string, ttl: number): Promise<number>;
  kettleCheckRun(
    lock: string,
    lastRun: string,
    lease: string,
    ttl: number,
    interval: number,
  ): Promise<[number, number]>;
  kettleMarkRun(
    lock: string,
    lastRun: string,
    lease: string,
    backdate: number,
    interval: number,
  ): Promise<number>;
  kettleCheckSlot(
    lock: string,
    slotKey: string,
    lease: string,
    ttl: number,
    slot: number,
  ): Promise<[number, number, number, number, number | string, string]>;
  kettleMarkSlot(
    lock: string,
    slotKey: string,
    lease: string,
    slot: number,
    term: number,
    keep: number,
    sinceLast: number,
    schedule: string,
  ): Promise<number>;
}

/**
 * One server of a QuorumStore: a RedisStore (its connections, error reports, acquire, renew,
 * release, holder and release messages) plus the few steps that only a quorum takes.
 */
export class QuorumMember extends RedisStore {
  private readonly commands: QuorumCommands;

  constructor(options: RedisStoreOptions) {
    super(options);
    this.client.defineCommand('kettleRaiseTerm', { numberOfKeys: 2, lua: RAISE_TERM });
    this.client.defineCommand('kettleDiscard', { numberOfKeys: 1, lua: DISCARD });
    this.client.defineCommand('kettleRenewOrTakeBack', {
      numberOfKeys: 1,
      lua: RENEW_OR_TAKE_BACK,
    });
    this.client.defineCommand('kettleCheckRun', { numberOfKeys: 2, lua: CLAIM_CHECK });
    this.client.defineCommand('kettleMarkRun', { numberOfKeys: 2, lua: CLAIM_MARK });
    this.client.defineCommand('kettleCheckSlot', { numberOfKeys: 2, lua: SLOT_CHECK });
    this.client.defineCommand('kettleMarkSlot', { numberOfKeys: 2, lua: SLOT_MARK });
    this.commands = this.client as unknown as QuorumCommands;
  }

  /** Raises this server's term to `term` if `lease` holds the lock here; true when it does. */
  async raiseTerm(name: string, lease: string, term: number): Promise<boolean> {
    this.ensureConnectedInOrder();
    const raised = await this.commands.kettleRaiseTerm(
      this.key(name, 'lock'),
      this.key(name, 'term'),
      lease,
      term,
    );
    return raised === 1;
  }

  /**
   * Extends the lease here if `lease` holds it (true), or takes the server back if nobody does
   * (false: a server taken back is not a vote that the lease still stands).
   */
  async renewOrTakeBack(name: string, lease: string, ttlMs: number): Promise<boolean> {
    this.ensureConnectedInOrder();
    return (await this.commands.kettleRenewOrTakeBack(this.key(name, 'lock'), lease, ttlMs)) === 1;
  }

  /** Deletes the lock if `lease` holds it here, without announcing a release. */
  async discard(name: string, lease: string): Promise<boolean> {
    this.ensureConnectedInOrder();
    return (await this.commands.kettleDiscard(this.key(name, 'lock'), lease)) === 1;
  }

  /** Renews the lease here, like `renewOrTakeBack`, and reads how long ago the last run was marked. */
  async checkRun(
    name: string,
    lease: string,
    intervalMs: number,
    ttlMs: number,
  ): Promise<RunCheck> {
    this.ensureConnectedInOrder();
    const [code, since] = await this.commands.kettleCheckRun(
      this.key(name, 'lock'),
      this.key(name, 'lastrun'),
      lease,
      ttlMs,
      intervalMs,
    );
    // -1: another lease holds this server; -2: it was free and is taken back, which is no vote.
    if (code < 0) return { holder: false };
    // A mark slightly ahead of this server's clock counts as just made.
    return { holder: true, sinceMs: code === 0 ? null : Math.max(0, Number(since)) };
  }

  /**
   * Marks a run here, dated `backdateMs` back (to its slot), if `lease` holds the lock: the slot on
   * this server's clock, or null when not the holder.
   */
  async markRun(
    name: string,
    lease: string,
    backdateMs: number,
    intervalMs: number,
  ): Promise<number | null> {
    this.ensureConnectedInOrder();
    const slot = await this.commands.kettleMarkRun(
      this.key(name, 'lock'),
      this.key(name, 'lastrun'),
      lease,
      Math.round(backdateMs),
      intervalMs,
    );
    return slot === 0 ? null : Number(slot);
  }

  /** Renews the lease here, like `renewOrTakeBack`, and reads the last claimed slot of `key`. */
  async checkSlot(
    name: string,
    lease: string,
    slotMs: number,
    ttlMs: number,
    key?: string,
  ): Promise<SlotCheck> {
    this.ensureConnectedInOrder();
    const [code, last, late, since, term, schedule] = await this.commands.kettleCheckSlot(
      this.key(name, 'lock'),
      this.slotKey(name, key),
      lease,
      ttlMs,
      Math.round(slotMs),
    );
    if (code < 0) return { holder: false };
    const lastSlotMs = Number(last) || null;
    return {
      holder: true,
      lastSlotMs,
      lateMs: Number(late),
      sinceLastMs: Number(since),
      lastTerm: Number(term) || null,
      lastSchedule: schedule || null,
    };
  }

  /**
   * Records the slot here if `lease` holds the lock: 'marked' (also when this term recorded it
   * already), 'already' (this server has a later one, this one by another term, or one less than
   * `options.sinceLastMs` ago) or 'not-holder'.
   */
  async markSlot(
    name: string,
    lease: string,
    slotMs: number,
    options: SlotClaimOptions,
  ): Promise<'marked' | 'already' | 'not-holder'> {
    this.ensureConnectedInOrder();
    const code = await this.commands.kettleMarkSlot(
      this.key(name, 'lock'),
      this.slotKey(name, options.key),
      lease,
      Math.round(slotMs),
      options.term,
      Math.max(1, Math.round(options.keepMs)),
      sinceLastMs(options),
      options.schedule ?? '',
    );
    return code === 1 ? 'marked' : code === 2 ? 'already' : 'not-holder';
  }
}
