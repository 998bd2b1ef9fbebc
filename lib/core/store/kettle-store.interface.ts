/**
 * The seam between an election and where leases live. Nothing here knows about Nest.
 *
 * A lease value is opaque to the store except for `holderOf` (see lease.ts): it names the node and
 * carries a random token that is new for every leadership. Every write compares it first.
 */
export type AcquireResult =
  | {
      readonly acquired: true;
      readonly term: number;
      /** Set by `takeOver`: the lease was taken from a holder whose connection had closed. */
      readonly tookOver?: boolean;
    }
  /**
   * `ttlMs` is the holder's remaining lease, or a negative number when unknown; `lease` the
   * holder's lease value, when the store tells (for crashDetection 'connection').
   */
  | {
      readonly acquired: false;
      readonly holder: string | null;
      readonly ttlMs: number;
      readonly lease?: string;
    };

export type ClaimResult =
  /**
   * This node may run now; the run's slot is the instant `slotMs` and the next slot is `nextInMs`
   * from now, both on the store's clock. A store that gives no `slotMs` leaves the run's
   * `scheduledAt` to the node's clock.
   */
  | { readonly outcome: 'run'; readonly nextInMs: number; readonly slotMs?: number }
  /** The current slot was already run; the next one is `waitMs` from now. */
  | { readonly outcome: 'wait'; readonly waitMs: number }
  /** The lease is not this node's any more. */
  | { readonly outcome: 'not-holder' };

/** One claim of `claimRuns`: what `claimRun` is given. */
export interface RunClaim {
  readonly name: string;
  readonly lease: string;
  readonly intervalMs: number;
  readonly ttlMs: number;
}

/** A claim's answer in `claimRuns`, or what failed that claim alone. */
export type RunClaimAnswer = ClaimResult | { readonly outcome: 'failed'; readonly error: unknown };

/** What `claimSlot` is told besides the slot: how late it may run, and what to record. */
export interface SlotClaimOptions {
  /** The claimer's term, recorded with the slot. */
  readonly term: number;
  /** A slot this long past due (on the store's clock) or more is `late`, unless caught up. */
  readonly graceMs: number;
  /**
   * Run a slot past its grace anyway when a last claimed slot is remembered (an earlier slot ran,
   * so this one fell due while nobody led): `catchUp: 'latest'`.
   */
  readonly catchUp: boolean;
  /** How long the store remembers the claimed slot. */
  readonly keepMs: number;
  /** Slots of one schedule share a key: e.g. a guarded method's id. Default: the election's own. */
  readonly key?: string;
  /**
   * A period since the last claimed firing, instead of a slot (`slotMs` is then ignored): the
   * store records its own clock's now, and runs the claim only when no firing was claimed in the
   * last `sinceLastMs` on its clock. For a schedule that starts when each node boots (an interval).
   */
  readonly sinceLastMs?: number;
  /**
   * What the claimer reads its schedule as (e.g. `cron '0 0 2 * * *' in Europe/Paris`): recorded
   * with the slot, so that a node that reads it otherwise is told (`recordedSchedule`).
   */
  readonly schedule?: string;
}

/** What a claim's answer tells besides its outcome. */
interface Recorded {
  /**
   * What the node that claimed the last slot read the schedule as, when it is not what this
   * claim's `schedule` says (the nodes disagree on the expression or the zone).
   */
  readonly recordedSchedule?: string;
  /**
   * The store's clock (epoch ms) when it decided, if the store tells: the node then reads its
   * cron slots on the store's clock, whatever its own says. A store without it leaves the node on
   * its own clock, within the allowance of ± 2 s.
   */
  readonly storeNowMs?: number;
}

export type SlotClaim =
  /** This node may run the slot now: it is marked, no other claim of it will run. */
  | ({ readonly outcome: 'run' } & Recorded)
  /** This slot, or a later one, was claimed already: `lastSlotMs` is the latest claimed. */
  | ({ readonly outcome: 'already-ran'; readonly lastSlotMs: number } & Recorded)
  /** The slot is still `waitMs` in the future on the store's clock: claim it again then. */
  | ({ readonly outcome: 'early'; readonly waitMs: number } & Recorded)
  /** The slot fell due `lateMs` ago, past its grace, and is not caught up: skip it. */
  | ({ readonly outcome: 'late'; readonly lateMs: number } & Recorded)
  /** The lease is not this node's any more. */
  | { readonly outcome: 'not-holder' };

/** A node of the fleet, as it last told the store (`heartbeat`). */
export interface FleetMember {
  readonly nodeId: string;
  /** How many of its balanced elections it leads. */
  readonly leading: number;
  /** How many balanced elections it takes part in. */
  readonly balanced: number;
  /**
   * A signature of the set of its balanced elections (see electionsGroup): nodes balance with
   * those whose sets are mostly the same.
   */
  readonly group: string;
  /**
   * How many heartbeats in a row the store has from it (its record never lapsed): set by the
   * store, whatever the node sends. A node seen once may have died right after it started.
   */
  readonly beats: number;
  /** How long ago, in ms on the store's clock, its last heartbeat came: set by the store. */
  readonly ageMs: number;
}

/** What `ConnectionSignal.check` found. */
export interface SignalCheck {
  readonly connection: number;
  readonly live: ReadonlySet<string>;
}

/**
 * How a store tells that a lease's holder is gone because its connection closed, well before its
 * lease runs out (crashDetection 'connection', docs/CRASH-DETECTION.md). A lease that carries a
 * connection token (lease.ts) may be taken over once no connection of its holder is subscribed to
 * that token's channel.
 */
export interface ConnectionSignal {
  /**
   * Checks that the signal can be seen where the leases live: resolves to undefined when it can,
   * else to why not (Redis Cluster, a proxy that hides subscriptions, an ACL that refuses the
   * channel). Rejects when it cannot tell yet (not connected): ask again later.
   */
  probe(): Promise<string | undefined>;
  /** The token for this node's new leases; undefined while its own signal is down (none then). */
  token(): string | undefined;
  /**
   * Which of `tokens` have a subscribed connection now (`live`), one command for them all, and
   * which of this node's connections asked: a number that changes at each of its reconnects. A
   * server that restarted or took over from another has no subscriptions until the nodes
   * subscribe again: only a token seen live on the same connection and silent since is a crash.
   */
  check(tokens: readonly string[]): Promise<SignalCheck>;
  /**
   * As `acquire`, and also takes a lease whose token has no subscribed connection (`tookOver`),
   * if this node's connection is still `connection` (a `check`'s): else as `acquire`. A holder
   * that reconnected and subscribed again is never taken. The store must have recorded every slot
   * a lease with a token claimed (`claimRun` and `claimSlot`), so that the next holder goes on
   * from it: no slot runs twice.
   */
  takeOver(name: string, lease: string, ttlMs: number, connection: number): Promise<AcquireResult>;
  /**
   * Calls `listener(false)` when this node's own signal goes down (its subscriber's connection
   * closed) and `listener(true)` each time it is up again (subscribed): meanwhile another node may
   * take this node's leases over, so its masters ask often rather than run on until their next
   * renewal. Returns the remover.
   */
  onChange?(listener: (up: boolean) => void): () => void;
}

export interface KettleStore {
  /** Takes the lease if nobody holds it, and then increments the election's term. */
  acquire(name: string, lease: string, ttlMs: number): Promise<AcquireResult>;
  /** Extends the lease to `ttlMs` from now if `lease` still holds it. */
  renew(name: string, lease: string, ttlMs: number): Promise<boolean>;
  /** Deletes the lease if `lease` still holds it, and tells the other nodes. */
  release(name: string, lease: string): Promise<boolean>;
  /** The node id that holds the election now, or null. */
  holder(name: string): Promise<string | null>;
  /**
   * Claims the current run slot for the holder of `lease`, on the store's clock, so that a run
   * happens once per interval whichever node is master; and, like `renew`, extends the lease to
   * `ttlMs` from now (unless the outcome is `not-holder`).
   */
  claimRun(name: string, lease: string, intervalMs: number, ttlMs: number): Promise<ClaimResult>;
  /**
   * Optional: `claimRun` for many elections at once, as a node's elections on one interval fall
   * due together. `answered(i, answer)` hears claim `i`'s answer as soon as it is there, once for
   * each claim: a claim that fails (alone, or with the command that carried it) is `failed`. A
   * store that cannot send at all throws. `answered` does not throw. Without this method, each
   * claim is a `claimRun` of its own.
   */
  claimRuns?(
    claims: readonly RunClaim[],
    answered: (index: number, answer: RunClaimAnswer) => void,
  ): void;
  /**
   * Claims the slot at instant `slotMs` (epoch ms) for the holder of `lease`, so that each slot of
   * a schedule runs once whichever node is master and whatever its clock says: it runs only if it
   * is later than the last claimed slot, no longer in the future on the store's clock, and within
   * its grace (or caught up). Like `renew`, it extends the lease to `ttlMs` from now (unless the
   * outcome is `not-holder`).
   *
   * Optional for a custom store: without it, a cron election is refused at bootstrap, and a
   * guarded `@Cron`, `@Interval` or `@Timeout` runs on the master at each of its firings there,
   * with no claim (two firings of one slot, one before a hand-over and one after, may both run).
   */
  claimSlot?(
    name: string,
    lease: string,
    slotMs: number,
    ttlMs: number,
    options: SlotClaimOptions,
  ): Promise<SlotClaim>;
  /**
   * Optional: true when `claimSlot` answers 'run' again to the term that claimed a slot last, if it
   * claims that slot again (so that a slot marked but never run, e.g. its answer came too late, is
   * not lost), as the built-in stores do. A node then refuses, on its own, a second firing of one
   * guarded slot. Leave it unset when every claim's answer is the store's own decision (a store
   * that runs each slot once whoever claims it, or one where a test decides each call).
   */
  readonly sameTermReclaims?: boolean;
  /**
   * Calls `listener` with the election's name whenever a node releases a lease: of election
   * `only` when given (a store may still call it for others, so check the name), else of any.
   */
  onReleased(listener: (name: string) => void, only?: string): () => void;
  /**
   * Optional, for stores behind a connection: false while commands would fail at once. Elections
   * then wait for `onConnected` instead of logging a failure.
   */
  readonly connected?: boolean;
  /** Optional: calls `listener` each time the store can take commands again (after a (re)connect). */
  onConnected?(listener: () => void): () => void;
  /**
   * Optional: a command sent `waitedMs` ago got no answer in time. The store may drop the
   * connection it went on and open a new one (the server behind the address may have moved, leaving
   * the old connection open and silent); nothing is sent again. An age, not a time: the election's
   * clock and the store's need not be the same.
   */
  commandTimedOut?(waitedMs: number): void;
  /**
   * Optional: marks node `nodeId` as run by the process with `token` for `ttlMs`, and returns the
   * token of another process that marked it since (two replicas given one nodeId), else null.
   * Without it, kettle does not look for a duplicate node id.
   */
  announceNode?(nodeId: string, token: string, ttlMs: number): Promise<string | null>;
  /**
   * Optional, for `balance`: records `member` as live for `ttlMs` (on the store's clock), counting
   * its `beats` (one more than its live record had, else 1), or forgets it when `ttlMs` is 0, and
   * returns every member still live, itself included. Without it, `balance` is refused at
   * bootstrap.
   */
  heartbeat?(member: FleetMember, ttlMs: number): Promise<FleetMember[]>;
  /** Optional, for crashDetection 'connection': without it, a crashed holder is followed after its lease. */
  readonly connectionSignal?: ConnectionSignal;
  /**
   * Closes what the store opened; never a client the user passed in. With `timeoutMs`, it waits
   * that long at most (for connections to close politely, say) before it drops them.
   */
  close(timeoutMs?: number): Promise<void>;
}
