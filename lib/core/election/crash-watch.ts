import type { KettleLogger } from '../interfaces/kettle-options.interface.js';
import * as messages from '../kettle.messages.js';
import type { ConnectionSignal } from '../store/kettle-store.interface.js';
import { connectionOf, holderOf } from '../store/lease.js';
import type { Clock } from '../utils/clock.js';
import { describeError } from '../utils/thrown-values.js';

/**
 * An election as the watch sees it: told to take its lease over when the holder's connection
 * closed, as seen on this node's connection `connection` (ConnectionSignal.takeOver).
 */
export interface Contender {
  takeOver(connection: number): void;
}

/** What an election asks of the watch: the token for its leases, and whose lease it waits on. */
export interface CrashWatchLink {
  /** The token a new lease carries: undefined until the signal is known to work, and while it is down. */
  token(): string | undefined;
  /**
   * Set until the store said whether the signal works: a lease taken meanwhile would carry no
   * token for its whole term. It settles then, or when the watch stops.
   */
  readonly deciding?: Promise<void>;
  /** `contender` waits on the lease `holderLease` (undefined: on none, or it left). */
  follow(contender: Contender, holderLease?: string): void;
  /** How often the followers poll: a master whose signal is down asks this often. */
  readonly pollMs: number;
  /** Calls `listener` as this node's own signal goes down (false) and up (true); the remover. */
  onSignal(listener: (up: boolean) => void): () => void;
}

export interface CrashWatchOptions {
  readonly signal: ConnectionSignal;
  readonly clock: Clock;
  readonly logger: KettleLogger;
  /** The module's lease: the polls derive from it. */
  readonly leaseTtl: number;
  /** Told of each node whose connections closed, before its leases are taken over. */
  readonly crashed?: (nodeId: string) => void;
}

/** How soon the probe asks again while the store cannot tell yet (not connected). */
const PROBE_RETRY_MS = 100;
/** A poll every twentieth of the lease, within these bounds. */
const POLL_MIN_MS = 100;
const POLL_MAX_MS = 5_000;

/** How often a node polls the holders of the leases it waits on (`leaseTtl` / 20, bounded). */
export function crashPollMs(leaseTtl: number): number {
  return Math.min(POLL_MAX_MS, Math.max(POLL_MIN_MS, Math.round(leaseTtl / 20)));
}

/**
 * crashDetection 'connection' on one node: ties its leases to its connections (their token), and
 * polls the holders of the leases its followers wait on, one command for all of them. A holder
 * seen subscribed on this node's current connection and silent since has its leases taken over
 * (ConnectionSignal.takeOver), each by an atomic check in the store, so a holder that came back in
 * between keeps them. A Redis that restarted, failed over or moved behind its address has lost
 * every subscription: a holder not seen since this node's connection came back is followed after
 * its lease, unless it subscribes again first (as live ones do).
 *
 * Not seen as a crash: a frozen process (its sockets stay open), a host that vanished without
 * closing them, a link that went silent. Those are followed after the lease, as without it.
 */
export class CrashWatch implements CrashWatchLink {
  private readonly waiting = new Map<
    string,
    { holder: string; contenders: Set<Contender>; seenOn?: number }
  >();
  private readonly tokenOf = new Map<Contender, string>();
  private state: 'idle' | 'probing' | 'on' | 'off' | 'stopped' = 'idle';
  private timer?: unknown;
  private gate?: unknown;
  readonly pollMs: number;
  deciding?: Promise<void>;
  private decided = () => {};

  constructor(private readonly options: CrashWatchOptions) {
    this.pollMs = crashPollMs(options.leaseTtl);
    this.deciding = new Promise((resolve) => (this.decided = resolve));
  }

  /** Probes the signal (again and again while the store cannot tell yet), then polls. */
  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'probing';
    // Elections wait for the answer a lease at most: a subscriber that cannot connect while the
    // commands can must not keep them from leading. Their leases carry no token until it comes.
    this.gate = this.options.clock.setTimeout(() => this.decide(), this.options.leaseTtl);
    void this.probe();
  }

  stop(): void {
    this.state = 'stopped';
    this.decide();
    this.options.clock.clearTimeout(this.timer);
    this.waiting.clear();
    this.tokenOf.clear();
  }

  token(): string | undefined {
    return this.state === 'on' ? this.options.signal.token() : undefined;
  }

  onSignal(listener: (up: boolean) => void): () => void {
    return this.options.signal.onChange?.(listener) ?? (() => undefined);
  }

  follow(contender: Contender, holderLease?: string): void {
    const token = holderLease === undefined ? undefined : connectionOf(holderLease);
    const before = this.tokenOf.get(contender);
    if (before === token) return;
    if (before !== undefined) {
      const entry = this.waiting.get(before);
      entry?.contenders.delete(contender);
      if (entry?.contenders.size === 0) this.waiting.delete(before);
      this.tokenOf.delete(contender);
    }
    if (token === undefined || this.state === 'stopped' || this.state === 'off') return;
    this.tokenOf.set(contender, token);
    let entry = this.waiting.get(token);
    if (!entry) {
      entry = { holder: holderOf(holderLease!), contenders: new Set() };
      this.waiting.set(token, entry);
    }
    entry.contenders.add(contender);
  }

  private async probe(): Promise<void> {
    let reason: string | undefined;
    try {
      reason = await this.options.signal.probe();
    } catch {
      // Not connected yet: ask again soon.
      return this.next(() => this.probe(), { inMs: PROBE_RETRY_MS });
    }
    if (this.state !== 'probing') return;
    this.decide();
    if (reason !== undefined) {
      this.state = 'off';
      this.waiting.clear();
      this.tokenOf.clear();
      return this.options.logger.warn(messages.crashDetectionFallsBack(reason));
    }
    this.state = 'on';
    this.options.logger.log(messages.crashDetectionOn(this.pollMs));
    this.next(() => this.poll());
  }

  /** One command asks after every holder waited on. */
  private async poll(): Promise<void> {
    const { signal, logger } = this.options;
    if (this.waiting.size > 0) {
      try {
        const { connection, live } = await signal.check([...this.waiting.keys()]);
        for (const [token, entry] of this.waiting) {
          if (live.has(token)) {
            entry.seenOn = connection;
            continue;
          }
          // Never seen on this connection: a server that lost its subscriptions, not a crash.
          if (entry.seenOn !== connection || this.state !== 'on') continue;
          this.waiting.delete(token);
          for (const contender of entry.contenders) this.tokenOf.delete(contender);
          logger.log(messages.holderConnectionClosed(entry.holder, entry.contenders.size));
          this.options.crashed?.(entry.holder);
          for (const contender of entry.contenders) contender.takeOver(connection);
        }
      } catch (error) {
        // The elections report an outage; this only waits for the next poll.
        logger.debug(messages.crashPollFailed(describeError(error)));
      }
    }
    this.next(() => this.poll());
  }

  private decide(): void {
    this.options.clock.clearTimeout(this.gate);
    this.deciding = undefined;
    this.decided();
  }

  /**
   * Polls fall on one grid of the wall clock on every node, so that the nodes see a crash at about
   * the same moment, and `balance`'s few hundred ms of deferral decide who takes what.
   */
  private next(step: () => Promise<void>, { inMs }: { inMs?: number } = {}): void {
    if (this.state === 'stopped' || this.state === 'off') return;
    const wait = inMs ?? this.pollMs - (this.options.clock.wallNow() % this.pollMs);
    this.timer = this.options.clock.setTimeout(() => void step(), wait);
  }
}
