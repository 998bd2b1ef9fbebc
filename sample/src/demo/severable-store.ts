import type { AcquireResult, ClaimResult, KettleStore, SlotClaim } from 'nestjs-kettle';

/**
 * A node's way to the shared memory store, which the demo can cut. Inside one process there is no
 * SIGKILL or SIGSTOP for one node; cutting its store is what the other nodes would see of either:
 * no renewals, no release. While cut, every command fails at once, as when Redis refuses the
 * connection, so that nothing waits on an answer that will never come.
 */
export class SeverableStore implements KettleStore {
  private severed = false;

  constructor(
    private readonly store: KettleStore & Required<Pick<KettleStore, 'claimSlot' | 'heartbeat'>>,
  ) {}

  get sameTermReclaims(): boolean | undefined {
    return this.store.sameTermReclaims;
  }

  sever(): void {
    this.severed = true;
  }

  restore(): void {
    this.severed = false;
  }

  acquire(name: string, lease: string, ttlMs: number): Promise<AcquireResult> {
    return this.send(() => this.store.acquire(name, lease, ttlMs));
  }

  renew(name: string, lease: string, ttlMs: number): Promise<boolean> {
    return this.send(() => this.store.renew(name, lease, ttlMs));
  }

  release(name: string, lease: string): Promise<boolean> {
    return this.send(() => this.store.release(name, lease));
  }

  holder(name: string): Promise<string | null> {
    return this.send(() => this.store.holder(name));
  }

  claimRun(name: string, lease: string, intervalMs: number, ttlMs: number): Promise<ClaimResult> {
    return this.send(() => this.store.claimRun(name, lease, intervalMs, ttlMs));
  }

  claimSlot(...claim: Parameters<NonNullable<KettleStore['claimSlot']>>): Promise<SlotClaim> {
    return this.send(() => this.store.claimSlot(...claim));
  }

  heartbeat(
    ...beat: Parameters<NonNullable<KettleStore['heartbeat']>>
  ): ReturnType<NonNullable<KettleStore['heartbeat']>> {
    return this.send(() => this.store.heartbeat(...beat));
  }

  onReleased(listener: (name: string) => void, only?: string): () => void {
    return this.store.onReleased((name) => {
      if (!this.severed) listener(name);
    }, only);
  }

  close(): Promise<void> {
    return this.store.close();
  }

  private send<T>(command: () => Promise<T>): Promise<T> {
    return this.severed ? Promise.reject(new Error('cut off by the demo')) : command();
  }
}
