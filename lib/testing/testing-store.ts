import { randomBytes } from 'node:crypto';
import type {
  AcquireResult,
  ClaimResult,
  KettleStore,
  SlotClaim,
  SlotClaimOptions,
} from '../core/store/kettle-store.interface.js';
import { newLease } from '../core/store/lease.js';
import { MemoryStore } from '../core/store/memory.store.js';

/** Who holds an election after `revoke()`: a node that exists only in this store. */
export const OTHER_TEST_NODE = 'other-node';

/**
 * Long enough that no timer of the election fires during a test (a follower looks again, a master
 * claims its next run, this long after), short enough for a Node timer (at most 2^31 - 1 ms).
 */
const NOT_DURING_A_TEST_MS = 3_600_000;

/**
 * A MemoryStore (a key space of its own) behind a gate that the test opens: this node acquires an
 * election only after `grant(name)`, and the store never says a run is due, so that jobs run only
 * when the test calls `runOnce`. Renew, release and holder are the MemoryStore's.
 */
export class TestingStore implements KettleStore {
  private readonly memory = new MemoryStore(`kettle-testing:${randomBytes(6).toString('hex')}:`);
  private readonly granted = new Set<string>();
  /** This node's lease per election, as last acquired. */
  private readonly ours = new Map<string, string>();
  /** The other node's lease per election, while it holds one. */
  private readonly theirs = new Map<string, string>();

  /** Lets this node acquire `name` (taking it from the other node if that one holds it). */
  async grant(name: string): Promise<void> {
    this.granted.add(name);
    const lease = this.theirs.get(name);
    this.theirs.delete(name);
    if (lease) await this.memory.release(name, lease);
  }

  /** Gives `name` to the other node: this node's next renew or claim finds it lost. */
  async revoke(name: string): Promise<void> {
    this.granted.delete(name);
    const ours = this.ours.get(name);
    if (ours) await this.memory.release(name, ours);
    if (this.theirs.has(name)) return;
    const lease = newLease(OTHER_TEST_NODE, NOT_DURING_A_TEST_MS);
    const taken = await this.memory.acquire(name, lease, NOT_DURING_A_TEST_MS);
    if (taken.acquired) this.theirs.set(name, lease);
  }

  async acquire(name: string, lease: string, ttlMs: number): Promise<AcquireResult> {
    if (this.granted.has(name)) {
      const result = await this.memory.acquire(name, lease, ttlMs);
      if (result.acquired) this.ours.set(name, lease);
      return result;
    }
    return { acquired: false, holder: await this.memory.holder(name), ttlMs: NOT_DURING_A_TEST_MS };
  }

  renew(name: string, lease: string, ttlMs: number): Promise<boolean> {
    return this.memory.renew(name, lease, ttlMs);
  }

  /** A release (resign, shutdown) also closes the gate: the node stays follower until granted again. */
  async release(name: string, lease: string): Promise<boolean> {
    const released = await this.memory.release(name, lease);
    if (released) this.granted.delete(name);
    return released;
  }

  holder(name: string): Promise<string | null> {
    return this.memory.holder(name);
  }

  /** A claim renews the lease, as in Redis, but a run is never due: runs come from runOnce. */
  async claimRun(
    name: string,
    lease: string,
    _intervalMs: number,
    ttlMs: number,
  ): Promise<ClaimResult> {
    if (!(await this.memory.renew(name, lease, ttlMs))) return { outcome: 'not-holder' };
    return { outcome: 'wait', waitMs: NOT_DURING_A_TEST_MS };
  }

  /**
   * A claim renews the lease. The election's own schedule (no `key`) never comes due: runs come
   * from runOnce. A guarded method's firing (with its `key`) runs whenever this node holds the
   * lease: the test called it, and decides; each call, however often one slot is called (no
   * `sameTermReclaims`, so the node does not refuse a slot it ran already).
   */
  async claimSlot(
    name: string,
    lease: string,
    _slotMs: number,
    ttlMs: number,
    options: SlotClaimOptions,
  ): Promise<SlotClaim> {
    if (!(await this.memory.renew(name, lease, ttlMs))) return { outcome: 'not-holder' };
    if (options.key === undefined) return { outcome: 'early', waitMs: NOT_DURING_A_TEST_MS };
    return { outcome: 'run' };
  }

  onReleased(listener: (name: string) => void, only?: string): () => void {
    return this.memory.onReleased(listener, only);
  }

  close(): Promise<void> {
    return this.memory.close();
  }
}
