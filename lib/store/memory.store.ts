import type { AcquireResult, ClaimResult, KettleStore } from './kettle-store.interface.js';
import { DEFAULT_KEY_PREFIX } from '../kettle.constants.js';
import { holderOf } from './lease.js';
import { ReleasedListeners } from './released-listeners.js';

interface Held {
  lease: string;
  expiresAt: number;
}

/** One key space: what one Redis would hold for one key prefix. */
class MemorySpace {
  readonly locks = new Map<string, Held>();
  readonly terms = new Map<string, number>();
  readonly lastRuns = new Map<string, number>();
  readonly released = new ReleasedListeners();
}

/** Shared by every MemoryStore of this process with the same key prefix, as nodes share a Redis. */
const spaces = new Map<string, MemorySpace>();

/**
 * Leases in this process's memory, with the semantics of RedisStore: for local development, demos
 * and unit tests. It elects among the nodes of one process only.
 */
export class MemoryStore implements KettleStore {
  private readonly space: MemorySpace;
  private readonly unsubscribers = new Set<() => void>();

  constructor(keyPrefix = DEFAULT_KEY_PREFIX) {
    let space = spaces.get(keyPrefix);
    if (!space) spaces.set(keyPrefix, (space = new MemorySpace()));
    this.space = space;
  }

  async acquire(name: string, lease: string, ttlMs: number): Promise<AcquireResult> {
    const held = this.live(name);
    if (held)
      return { acquired: false, holder: holderOf(held.lease), ttlMs: held.expiresAt - Date.now() };
    this.space.locks.set(name, { lease, expiresAt: Date.now() + ttlMs });
    const term = (this.space.terms.get(name) ?? Date.now()) + 1;
    this.space.terms.set(name, term);
    return { acquired: true, term };
  }

  async renew(name: string, lease: string, ttlMs: number): Promise<boolean> {
    const held = this.live(name);
    if (held?.lease !== lease) return false;
    held.expiresAt = Date.now() + ttlMs;
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
    held.expiresAt = Date.now() + ttlMs;
    const now = Date.now();
    let last = this.space.lastRuns.get(name);
    if (last !== undefined && (last - now > intervalMs || now >= last + 2 * intervalMs))
      last = undefined;
    if (last !== undefined && now < last + intervalMs)
      return { outcome: 'wait', waitMs: last + intervalMs - now };
    const slot = last === undefined ? now : last + intervalMs;
    this.space.lastRuns.set(name, slot);
    return { outcome: 'run', nextInMs: slot + intervalMs - now };
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
  }

  private live(name: string): Held | undefined {
    const held = this.space.locks.get(name);
    if (held && held.expiresAt <= Date.now()) {
      this.space.locks.delete(name);
      return undefined;
    }
    return held;
  }
}
