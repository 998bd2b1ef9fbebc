import type {
  AcquireResult,
  ClaimResult,
  FleetMember,
  KettleStore,
  SlotClaim,
  SlotClaimOptions,
} from './kettle-store.interface.js';
import { clockDrift } from '../utils/clock-drift.js';
import { KettleQuorumError, majorityVote, settleWhenDecided, type Vote } from './majority.js';
import { checkQuorum, type RedisConnection } from './redis-connection.js';
import { QuorumMember } from './quorum-member.js';
import { withRecorded } from './redis.store.js';
import { withTimeout } from '../utils/promise-timeout.js';
import { describeError } from '../utils/thrown-values.js';

export interface QuorumStoreOptions {
  /** Three or more independent Redis servers; 2f + 1 of them keep electing with f down. */
  readonly connections: readonly RedisConnection[];
  readonly keyPrefix: string;
  /** Shown in CLIENT LIST on every server, as RedisStore does. */
  readonly clientName?: string;
  /** Told about connection errors; `where` starts with the server, e.g. `redis[1] commands`. */
  readonly onError?: (where: string, error: Error) => void;
  /** Told about a server set up in a way that endangers leases; the message starts `redis[1]: `. */
  readonly onWarning?: (message: string) => void;
}

/** How long a server may take over a command that has no lease to bound it (holder, release). */
const SERVER_TIMEOUT_MS = 2000;
/** After a split (no holder has a majority), contenders retry within this share of the lease. */
const SPLIT_RETRY_SHARE = 0.1;
/**
 * How long one round of a lease command (acquire's two phases, renew, claim's check and mark) waits
 * for a server, as a share of the lease. When the others split, a hung server would decide: waiting
 * for it up to the validity would outlast the election's own timeout (a third of the lease), so
 * the command answers (KettleQuorumError) and the caller retries, as Redlock's short timeouts do.
 */
const ROUND_SHARE = 0.1;
/**
 * But never less than this, nor than a seventh of the lease (two rounds well within the election's third):
 * with a lease of a few hundred ms, a tenth would fail a server at its first slow answer.
 */
const ROUND_FLOOR_MS = 50;

/** How long one round waits for a server, for a lease of `ttlMs` (never past its validity). */
function roundTimeout(ttlMs: number, validMs: number): number {
  return Math.min(validMs, Math.max(ttlMs * ROUND_SHARE, Math.min(ROUND_FLOOR_MS, ttlMs / 7)));
}

const now = () => performance.now();

/**
 * Leases on independent Redis servers, held only with a majority of them (the Redlock idea). Any
 * two majorities share a server, so two nodes cannot both hold one; terms go through a second phase
 * so that they rise across hand-overs whichever majority answers. docs/QUORUM.md has the argument.
 */
export class QuorumStore implements KettleStore {
  /** A slot claimed by a term is answered 'run' again when that term claims it again. */
  readonly sameTermReclaims = true;
  private readonly members: QuorumMember[];
  private readonly majority: number;

  constructor(options: QuorumStoreOptions) {
    checkQuorum(options.connections, 'connections');
    const { keyPrefix, clientName, onError, onWarning } = options;
    this.members = options.connections.map(
      (connection, server) =>
        new QuorumMember({
          connection,
          keyPrefix,
          clientName,
          onError: onError && ((where, error) => onError(`redis[${server}] ${where}`, error)),
          onWarning: onWarning && ((message) => onWarning(`redis[${server}]: ${message}`)),
        }),
    );
    this.majority = Math.floor(this.members.length / 2) + 1;
  }

  /**
   * Phase 1 takes the lock where it is free and increments each server's term; the term is the
   * highest a majority reported. Phase 2 raises the term to it on the servers held. Both must
   * reach a majority within the lease's validity, else what was taken is dropped at once.
   */
  async acquire(name: string, lease: string, ttlMs: number): Promise<AcquireResult> {
    const sentAt = now();
    const validMs = ttlMs - clockDrift(ttlMs);
    const roundMs = roundTimeout(ttlMs, validMs);
    const taken = await this.vote(
      'acquire',
      roundMs,
      (member) => member.acquire(name, lease, ttlMs),
      (answer) => answer.acquired,
    );
    let raised: Vote<boolean> | undefined;
    if (taken.outcome === 'yes') {
      const term = Math.max(...taken.yes.map((answer) => (answer.acquired ? answer.term : 0)));
      const leftMs = validMs - (now() - sentAt);
      if (leftMs > 0) {
        raised = await this.vote(
          'acquire',
          Math.min(leftMs, roundMs),
          (member) => member.raiseTerm(name, lease, term),
          (held) => held,
        );
        if (raised.outcome === 'yes' && now() - sentAt < validMs) return { acquired: true, term };
      }
    }
    await this.discard(name, lease);
    if (taken.outcome === 'unreachable') throw this.noMajority('acquire', taken.failures);
    if (raised?.outcome === 'unreachable') throw this.noMajority('acquire', raised.failures);
    return this.refused(taken.no, ttlMs);
  }

  async renew(name: string, lease: string, ttlMs: number): Promise<boolean> {
    const sentAt = now();
    const validMs = ttlMs - clockDrift(ttlMs);
    const renewed = await this.vote(
      'renew',
      roundTimeout(ttlMs, validMs),
      (member) => member.renewOrTakeBack(name, lease, ttlMs),
      (extended) => extended,
    );
    if (renewed.outcome === 'unreachable') throw this.noMajority('renew', renewed.failures);
    if (renewed.outcome === 'yes' && now() - sentAt < validMs) return true;
    this.dropLost(name, lease);
    return false;
  }

  /** True when the lease held a majority; it is deleted (and announced) wherever it stands. */
  async release(name: string, lease: string): Promise<boolean> {
    const released = await this.vote(
      'release',
      SERVER_TIMEOUT_MS,
      (member) => member.release(name, lease),
      (deleted) => deleted,
    );
    if (released.outcome === 'unreachable') throw this.noMajority('release', released.failures);
    return released.outcome === 'yes';
  }

  /** The holder a majority of the servers name, else null. */
  holder(name: string): Promise<string | null> {
    const calls = this.calls('holder', SERVER_TIMEOUT_MS, (member) => member.holder(name));
    return settleWhenDecided(calls, (answers, pending) => {
      const votes = new Map<string | null, number>();
      const failures: string[] = [];
      for (const answer of answers) {
        if ('failure' in answer) failures.push(answer.failure);
        else votes.set(answer.value, (votes.get(answer.value) ?? 0) + 1);
      }
      for (const [holder, count] of votes) if (count >= this.majority) return holder;
      if (Math.max(0, ...votes.values()) + pending >= this.majority) return undefined;
      if (answers.length - failures.length < this.majority)
        throw this.noMajority('holder', failures);
      return null;
    });
  }

  /**
   * Two steps, so that no server marks a run the quorum did not decide: a check (which renews the
   * lease and reads each server's last run on its own clock), then, when every holder that
   * answered saw a whole interval pass, a mark that must reach a majority before the caller runs.
   */
  async claimRun(
    name: string,
    lease: string,
    intervalMs: number,
    ttlMs: number,
  ): Promise<ClaimResult> {
    const sentAt = now();
    const validMs = ttlMs - clockDrift(ttlMs);
    const roundMs = roundTimeout(ttlMs, validMs);
    const checked = await this.vote(
      'claim run',
      roundMs,
      (member) => member.checkRun(name, lease, intervalMs, ttlMs),
      (check) => check.holder,
    );
    if (checked.outcome === 'unreachable') throw this.noMajority('claim run', checked.failures);
    if (checked.outcome === 'no' || now() - sentAt >= validMs) {
      this.dropLost(name, lease);
      return { outcome: 'not-holder' };
    }
    const sinces = checked.yes.flatMap((check) =>
      check.holder && check.sinceMs !== null ? [check.sinceMs] : [],
    );
    const latestMs = sinces.length > 0 ? Math.min(...sinces) : null;
    if (latestMs !== null && latestMs < intervalMs)
      return { outcome: 'wait', waitMs: intervalMs - latestMs };
    // Late within the next interval: date the mark back to its slot, so runs keep to the grid.
    const lateMs = latestMs !== null && latestMs < 2 * intervalMs ? latestMs - intervalMs : 0;
    const marked = await this.vote(
      'claim run',
      Math.max(1, Math.min(roundMs, validMs - (now() - sentAt))),
      (member) => member.markRun(name, lease, lateMs, intervalMs),
      (slot) => slot !== null,
    );
    // The servers' clocks differ: the slot is the one the first marking server dated.
    if (marked.outcome === 'yes')
      return { outcome: 'run', nextInMs: intervalMs - lateMs, slotMs: marked.yes[0]! };
    if (marked.outcome === 'no') {
      this.dropLost(name, lease);
      return { outcome: 'not-holder' };
    }
    throw this.noMajority('claim run', marked.failures);
  }

  /**
   * Two steps, as claimRun: a check on every server (which renews the lease, and reads the last
   * claimed slot and how late the slot is on that server's clock), then a mark that must reach a
   * majority before the caller runs. Any two majorities share a server, so a slot marked once is
   * seen by every later check: it never runs twice. A mark that reached a minority only did not
   * run (its claimer got no 'run'): the same term claims that slot again, and another term may
   * run it too when the majority that answers its check misses the marked servers. Early and late
   * are judged on the servers' clocks: early while any holder's server has not reached the slot,
   * late only when every one says so.
   */
  async claimSlot(
    name: string,
    lease: string,
    slotMs: number,
    ttlMs: number,
    options: SlotClaimOptions,
  ): Promise<SlotClaim> {
    const sentAt = now();
    const validMs = ttlMs - clockDrift(ttlMs);
    const roundMs = roundTimeout(ttlMs, validMs);
    const checked = await this.vote(
      'claim slot',
      roundMs,
      (member) => member.checkSlot(name, lease, slotMs, ttlMs, options.key),
      (check) => check.holder,
    );
    if (checked.outcome === 'unreachable') throw this.noMajority('claim slot', checked.failures);
    if (checked.outcome === 'no' || now() - sentAt >= validMs) {
      this.dropLost(name, lease);
      return { outcome: 'not-holder' };
    }
    const checks = checked.yes.flatMap((check) => (check.holder ? [check] : []));
    const lasts = checks.flatMap((check) => (check.lastSlotMs === null ? [] : [check.lastSlotMs]));
    const lastSlotMs = lasts.length > 0 ? Math.max(...lasts) : null;
    // The schedule of the latest slot any server has: what its claimer read the schedule as.
    const recorded = checks.find((check) => check.lastSlotMs === lastSlotMs)?.lastSchedule;
    // The store's clock: the slowest of the servers that answered, which runs the fewest slots.
    const storeNowMs = slotMs + Math.min(...checks.map((check) => check.lateMs));
    const told = (claim: SlotClaim) => withRecorded(claim, options, recorded, storeNowMs);
    const since = options.sinceLastMs;
    if (since !== undefined) {
      // Each server measures the gap on its own clock: the smallest counts (one ahead of its
      // clock by more than the period went back, and is ignored, as in CLAIM_SLOT).
      const gaps = checks.flatMap((check) =>
        check.lastSlotMs === null || check.sinceLastMs < -since ? [] : [check.sinceLastMs],
      );
      if (gaps.length > 0 && Math.min(...gaps) < since)
        return told({ outcome: 'already-ran', lastSlotMs: lastSlotMs! });
    } else {
      // A slot this term claimed already (on a minority, or the answer was lost) is claimed again.
      const taken = checks.some(
        ({ lastSlotMs: last, lastTerm }) =>
          last !== null && (slotMs < last || (slotMs === last && lastTerm !== options.term)),
      );
      if (taken) return told({ outcome: 'already-ran', lastSlotMs: lastSlotMs! });
      const lateMs = Math.min(...checks.map((check) => check.lateMs));
      if (lateMs < 0) return told({ outcome: 'early', waitMs: -lateMs });
      if (lateMs > options.graceMs && !(options.catchUp && lastSlotMs !== null))
        return told({ outcome: 'late', lateMs });
    }
    const marked = await this.vote(
      'claim slot',
      Math.max(1, Math.min(roundMs, validMs - (now() - sentAt))),
      (member) => member.markSlot(name, lease, slotMs, options),
      (outcome) => outcome === 'marked',
    );
    if (marked.outcome === 'yes') return told({ outcome: 'run' });
    if (marked.outcome === 'unreachable') throw this.noMajority('claim slot', marked.failures);
    if (marked.no.includes('already')) return told({ outcome: 'already-ran', lastSlotMs: slotMs });
    this.dropLost(name, lease);
    return { outcome: 'not-holder' };
  }

  /** Another process's token on any server that answers: a duplicate is worth a warning anywhere. */
  async announceNode(nodeId: string, token: string, ttlMs: number): Promise<string | null> {
    const answers = await Promise.allSettled(
      this.calls('announce', SERVER_TIMEOUT_MS, (member) =>
        member.announceNode(nodeId, token, ttlMs),
      ),
    );
    for (const answer of answers)
      if (answer.status === 'fulfilled' && answer.value) return answer.value;
    return null;
  }

  /**
   * Every server that answers, merged: balancing is a preference, not a safety rule, so one
   * server's view of the fleet is enough, and a member any of them knows is live, as the server
   * that has seen the most of its beats in a row knows it.
   */
  async heartbeat(member: FleetMember, ttlMs: number): Promise<FleetMember[]> {
    const answers = await Promise.allSettled(
      this.calls('heartbeat', SERVER_TIMEOUT_MS, (server) => server.heartbeat(member, ttlMs)),
    );
    const merged = new Map<string, FleetMember>();
    const failures: string[] = [];
    for (const answer of answers) {
      if (answer.status === 'rejected') failures.push(describeError(answer.reason));
      else
        for (const live of answer.value) {
          // The longest run of beats: a server that restarted empty, or missed some, knows less.
          const known = merged.get(live.nodeId);
          if (!known || live.beats > known.beats) merged.set(live.nodeId, live);
        }
    }
    if (failures.length === answers.length) throw this.noMajority('heartbeat', failures);
    return [...merged.values()];
  }

  /** Every server announces a release: a listener may hear one release up to once per server. */
  onReleased(listener: (name: string) => void, only?: string): () => void {
    const unsubscribers = this.members.map((member) => member.onReleased(listener, only));
    return () => unsubscribers.forEach((unsubscribe) => unsubscribe());
  }

  /** True while a majority of the servers take commands. */
  get connected(): boolean {
    return this.connectedCount() >= this.majority;
  }

  /** Calls `listener` each time a server's reconnect brings the connected count up to a majority. */
  onConnected(listener: () => void): () => void {
    const unsubscribers = this.members.map((member) =>
      member.onConnected(() => {
        if (this.connectedCount() === this.majority) listener();
      }),
    );
    return () => unsubscribers.forEach((unsubscribe) => unsubscribe());
  }

  async close(timeoutMs?: number): Promise<void> {
    await Promise.all(this.members.map((member) => member.close(timeoutMs)));
  }

  private connectedCount(): number {
    return this.members.filter((member) => member.connected).length;
  }

  /**
   * One command on every server, each with its own timeout, so that a hung one stalls nothing; a
   * server that does not answer in time gets a new connection.
   */
  private calls<T>(
    action: string,
    timeoutMs: number,
    command: (member: QuorumMember) => Promise<T>,
  ): Array<Promise<T>> {
    const sentAt = now();
    return this.members.map((member) =>
      withTimeout(
        Promise.resolve().then(() => command(member)),
        timeoutMs,
        action,
        () => member.commandTimedOut(now() - sentAt),
      ),
    );
  }

  private vote<T>(
    action: string,
    timeoutMs: number,
    command: (member: QuorumMember) => Promise<T>,
    isYes: (value: T) => boolean,
  ): Promise<Vote<T>> {
    return majorityVote(this.calls(action, timeoutMs, command), isYes, this.majority);
  }

  /** Drops what a failed acquire took, unannounced; commands on one connection keep their order. */
  private async discard(name: string, lease: string): Promise<void> {
    await this.vote(
      'discard',
      SERVER_TIMEOUT_MS,
      (m) => m.discard(name, lease),
      () => true,
    );
  }

  /** A lease lost on a majority: free the servers that still hold it, and say so, for the others. */
  private dropLost(name: string, lease: string): void {
    this.release(name, lease).catch(() => undefined);
  }

  /**
   * Who refused, and when to look again: when enough of the holder's servers expire to free a
   * majority, if one holder has a majority; else soon, at random (contenders split the servers
   * and dropped what they took), so that they do not split them again.
   */
  private refused(answers: readonly AcquireResult[], ttlMs: number): AcquireResult {
    const byHolder = new Map<string | null, number[]>();
    for (const answer of answers) {
      if (answer.acquired) continue;
      byHolder.set(answer.holder, [...(byHolder.get(answer.holder) ?? []), answer.ttlMs]);
    }
    const [holder, ttls] = [...byHolder].sort((a, b) => b[1].length - a[1].length)[0] ?? [null, []];
    if (holder !== null && ttls.length >= this.majority) {
      const freeFirst = ttls.length - (this.members.length - this.majority);
      const ends = ttls.sort((a, b) => a - b)[freeFirst - 1];
      return { acquired: false, holder, ttlMs: ttls.some((ttl) => ttl < 0) ? -1 : ends };
    }
    return { acquired: false, holder, ttlMs: Math.random() * ttlMs * SPLIT_RETRY_SHARE };
  }

  private noMajority(action: string, failures: readonly string[]): KettleQuorumError {
    return new KettleQuorumError(action, this.majority, this.members.length, failures);
  }
}
