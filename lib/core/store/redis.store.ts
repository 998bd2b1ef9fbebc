import { randomBytes } from 'node:crypto';
import { type Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';
import { describeError } from '../utils/thrown-values.js';
import * as messages from '../kettle.messages.js';
import type {
  AcquireResult,
  ConnectionSignal,
  SignalCheck,
  FleetMember,
  ClaimResult,
  RunClaim,
  RunClaimAnswer,
  KettleStore,
  SlotClaim,
  SlotClaimOptions,
} from './kettle-store.interface.js';
import {
  checkKeyPrefix,
  connectionChannelPrefix,
  electionKey,
  type ElectionKeyKind,
  fleetKey,
  nodeKey,
  slotKey,
} from './keys.js';
import { connectionOf, holderOf } from './lease.js';
import type { RedisConnection } from './redis-connection.js';
import { ReleaseListeners } from './release-listeners.js';
import { settlesWithin, withTimeout } from '../utils/promise-timeout.js';
import calculateSlot from 'cluster-key-slot';
import { type BatchReceiver, TurnBatch } from '../utils/turn-batch.js';
import { CLAIM_SLOT, FLEET, LEASE_FAILED, LEASE_OPS, LEASES, NODE_PRESENCE } from './scripts.js';
import { isConfigurationError, KettleStoreError, storeReadError } from './store-error.js';

export interface RedisStoreOptions {
  readonly connection: RedisConnection;
  readonly keyPrefix: string;
  /** Shown in CLIENT LIST as `kettle:<name>` and `kettle-sub:<name>`, e.g. the node id. */
  readonly clientName?: string;
  /** Told about connection errors; ioredis would otherwise crash the process on an unheard 'error'. */
  readonly onError?: (where: string, error: Error) => void;
  /** Told about a server set up in a way that endangers leases (a maxmemory-policy that evicts). */
  readonly onWarning?: (message: string) => void;
  /**
   * Offer `connectionSignal` (crashDetection 'connection'): the subscriber also listens on a
   * channel of this store's own while it lives, and a lease whose holder's channel is silent may
   * be taken over.
   */
  readonly crashDetection?: boolean;
}

/**
 * A dropped connection's socket is destroyed this soon if the server does not answer its FIN (one
 * that vanished behind a moved address never does; ioredis would wait 2 s).
 */
const DROP_WAIT_MS = 100;

/**
 * Lock commands must never wait in ioredis's offline queue, nor be sent again after a reconnect:
 * either could renew or take a lease long after the node stopped believing in it.
 */
const LOCK_CONNECTION: Partial<RedisOptions> = {
  enableOfflineQueue: false,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 0,
  lazyConnect: false,
  disconnectTimeout: DROP_WAIT_MS,
};
/**
 * On Cluster, ioredis sends a command that met a closed connection or CLUSTERDOWN again 100 ms
 * later; the first may have run. A lock command fails instead (MOVED and ASK still redirect).
 */
const LOCK_CLUSTER: Partial<ClusterOptions> = {
  retryDelayOnFailover: 0,
  retryDelayOnClusterDown: 0,
};
const QUIT_WAIT_MS = 1000;
const RESUBSCRIBE_MS = 1000;
/** How long `holder()` waits for a connection still coming up, and then for the answer. */
const READ_WAIT_MS = 2000;
/** Where the subscriber's own channel reports a refusal (apart from the release channel's). */
const ALIVE = 'subscriber (crash detection channel)';
/** Counts a channel's subscribers inside a script: what LEASES's take over does. ARGV[1]: channel. */
const COUNT_SUBSCRIBERS = `return redis.call('PUBSUB', 'NUMSUB', ARGV[1])[2]`;
/**
 * A SUBSCRIBE changes no lease, so it may wait for the connection. kettle subscribes again itself on
 * every reconnect: ioredis's own resubscribe drops a refusal (NOPERM after an ACL change) or a
 * connection closed before the answer as an unhandled rejection, and never tries again.
 */
const SUBSCRIBER_CONNECTION: Partial<RedisOptions> = {
  enableOfflineQueue: true,
  autoResubscribe: false,
  maxRetriesPerRequest: null,
  lazyConnect: false,
  disconnectTimeout: DROP_WAIT_MS,
};

/**
 * Replies of a server that is not a writable primary (any more, or yet): a replica, one loading its
 * data, one cut off from its primary. Behind an address that moved on a failover, a new connection
 * reaches the new primary, so kettle's connections reconnect on them (never resending the command).
 */
const NOT_WRITABLE_PRIMARY = /^(READONLY|LOADING|MASTERDOWN)\b/;

/**
 * Reconnect quickly: a follower cannot take over a lease while it is reconnecting. Applies unless
 * the connection options bring a retryStrategy of their own, and whenever that one gives up.
 */
const reconnectSoon = (attempt: number) => Math.min(attempt * 50, 500);

/**
 * Through Sentinel, leave the old master as soon as a sentinel announces `+switch-master`: after a
 * planned failover the old master stays up, and takes writes that are lost, until Sentinel turns it
 * into a replica (about 10 s later). Applies unless the options set failoverDetector themselves.
 */
const sentinelDefaults = (options: RedisOptions): Partial<RedisOptions> =>
  options.sentinels?.length ? { failoverDetector: true } : {};

interface ScriptCommands {
  kettleLeases(
    keyCount: number,
    ...keysAndArgs: (string | number)[]
  ): Promise<LeaseReply[number][]>;
  kettleClaimSlot(
    lock: string,
    slotKey: string,
    lease: string,
    ttl: number,
    slot: number,
    term: number,
    grace: number,
    catchUp: number,
    keep: number,
    sinceLast: number,
    schedule: string,
  ): Promise<[number, number, string?, number?]>;
  kettleNodePresence(key: string, token: string, ttl: number): Promise<string | null>;
  kettleFleet(
    key: string,
    nodeId: string,
    ttl: number,
    leading: number,
    balanced: number,
    group: string,
  ): Promise<string[]>;
}
type ScriptClient = (Redis | Cluster) & ScriptCommands;

/** One item of a LEASES call: see scripts.ts. `other` is the term key or the last-run key. */
interface LeaseItem {
  readonly op: (typeof LEASE_OPS)[keyof typeof LEASE_OPS];
  readonly lock: string;
  readonly other: string;
  readonly lease: string;
  readonly ttl?: number;
  readonly interval?: number;
  readonly last?: number;
  readonly name?: string;
}
/** A claim's item: its interval is always given. */
type ClaimItem = LeaseItem & { readonly interval: number };
type LeaseReply = readonly [number | typeof LEASE_FAILED, string | number, number];

/**
 * The most lease items in one LEASES call: a few milliseconds of the server's time at most, so
 * that other clients are not held up behind one node's batch.
 */
const MAX_LEASE_ITEMS = 500;

/** Election names whose keys are kept built (`key`). */
const MAX_CACHED_NAMES = 100_000;

/** The last slot a lease claimed here: its next claim and its release pass it on (LEASES). */
interface ClaimedSlot {
  readonly lease: string;
  slot: number;
  readonly interval: number;
}

/** Leases in Redis. It opens its own connections and closes them; a client passed in is only copied. */
export class RedisStore implements KettleStore {
  /** A slot claimed by a term is answered 'run' again when that term claims it again. */
  readonly sameTermReclaims = true;
  protected readonly client: ScriptClient;
  private subscriber?: Redis | Cluster;
  private readonly releasedListeners = new ReleaseListeners();
  private readonly connectedListeners = new Set<() => void>();
  private readonly channel: string;
  /** The last error of each connection, reported once until it changes or the connection is ready. */
  private readonly lastErrors = new Map<string, Error>();
  /** When each connection last became ready (performance.now()); unset once it is dropped. */
  private readonly readyAt = new Map<string, number>();
  /** Refusals of lock commands for a reason of the configuration, each reported once. */
  private readonly refusals = new Set<string>();
  /** Connections whose retryStrategy gave up once already: that is reported once. */
  private readonly retryGaveUp = new Set<string>();
  private resubscribe?: NodeJS.Timeout;
  private resubscribeAlive?: NodeJS.Timeout;
  private closed = false;
  readonly connectionSignal?: ConnectionSignal;
  /** This store's connection token, and the channel its subscriber listens on while it lives. */
  private readonly connectionToken = randomBytes(8).toString('hex');
  private readonly aliveChannels: string;
  /** When the subscriber last subscribed to its channel (performance.now()); unset while not. */
  private aliveSince?: number;
  /** The probe saw the signal work: leases carry the token from now on. */
  private signalWorks = false;
  /** How many times the command connection became ready: which connection a `check` asked on. */
  private connections = 0;
  /** The server refuses this store's channel (an ACL changed): it will not come back by itself. */
  private aliveRefused = false;
  /** Told each time the subscriber's channel is lost, and subscribed (again). */
  private readonly signalListeners = new Set<(up: boolean) => void>();
  /** The lease commands of one turn, sent as one LEASES call per server (per slot on Cluster). */
  private readonly leases: TurnBatch<LeaseItem, LeaseReply>;
  private readonly keys = new Map<string, Partial<Record<ElectionKeyKind, string>>>();
  /** Per lock key, the last slot claimed by the lease that holds it here. */
  private readonly claimedSlots = new Map<string, ClaimedSlot>();

  constructor(private readonly options: RedisStoreOptions) {
    checkKeyPrefix('keyPrefix', options.keyPrefix);
    this.channel = `${options.keyPrefix}released`;
    this.aliveChannels = connectionChannelPrefix(options.keyPrefix);
    this.client = this.open(
      { ...LOCK_CONNECTION, connectionName: this.clientName('kettle') },
      'commands',
      LOCK_CLUSTER,
    ) as ScriptClient;
    this.client.on('ready', () => {
      this.connections++;
      for (const listener of this.connectedListeners) listener();
    });
    this.client.once('ready', () => void this.checkEviction());
    this.client.defineCommand('kettleLeases', { lua: LEASES });
    this.client.defineCommand('kettleClaimSlot', { numberOfKeys: 2, lua: CLAIM_SLOT });
    this.client.defineCommand('kettleNodePresence', { numberOfKeys: 1, lua: NODE_PRESENCE });
    this.client.defineCommand('kettleFleet', { numberOfKeys: 1, lua: FLEET });
    const cluster = this.client.isCluster;
    this.leases = new TurnBatch<LeaseItem, LeaseReply>({
      send: (items) => this.sendLeases(items),
      groupOf: cluster ? (item) => calculateSlot(item.lock) : undefined,
      maxItems: MAX_LEASE_ITEMS,
    });
    if (options.crashDetection) {
      this.connectionSignal = {
        probe: () => this.probeSignal(),
        token: () =>
          this.signalWorks && this.aliveSince !== undefined ? this.connectionToken : undefined,
        check: (tokens) => this.checkTokens(tokens),
        takeOver: (name, lease, ttlMs, connection) =>
          this.acquireLease(
            name,
            lease,
            ttlMs,
            connection === this.connections ? LEASE_OPS.takeOver : LEASE_OPS.acquire,
          ),
        onChange: (listener) => {
          this.signalListeners.add(listener);
          return () => this.signalListeners.delete(listener);
        },
      };
      this.openSubscriber();
    }
  }

  acquire(name: string, lease: string, ttlMs: number): Promise<AcquireResult> {
    return this.acquireLease(name, lease, ttlMs, LEASE_OPS.acquire);
  }

  private async acquireLease(
    name: string,
    lease: string,
    ttlMs: number,
    op: typeof LEASE_OPS.acquire | typeof LEASE_OPS.takeOver,
  ): Promise<AcquireResult> {
    this.ensureConnected();
    const [acquired, value, at] = await this.lease({
      op,
      lock: this.key(name, 'lock'),
      other: this.key(name, 'term'),
      lease,
      ttl: ttlMs,
    });
    if (acquired === 1) {
      const tookOver = at === 1;
      return { acquired: true, term: Number(value), ...(tookOver && { tookOver }) };
    }
    const holderLease = value ? String(value) : undefined;
    return {
      acquired: false,
      holder: holderLease === undefined ? null : holderOf(holderLease),
      ttlMs: Number(at),
      ...(holderLease !== undefined && { lease: holderLease }),
    };
  }

  async renew(name: string, lease: string, ttlMs: number): Promise<boolean> {
    this.ensureConnected();
    const lock = this.key(name, 'lock');
    const [renewed] = await this.lease({
      op: LEASE_OPS.renew,
      lock,
      other: lock,
      lease,
      ttl: ttlMs,
    });
    if (renewed !== 1) this.forgetSlot(lock, lease);
    return renewed === 1;
  }

  async release(name: string, lease: string): Promise<boolean> {
    this.ensureConnected();
    const lock = this.key(name, 'lock');
    const claimed = this.claimedSlots.get(lock);
    const mine = claimed?.lease === lease ? claimed : undefined;
    this.forgetSlot(lock, lease);
    const [released] = await this.lease({
      op: LEASE_OPS.release,
      lock,
      other: this.key(name, 'lastrun'),
      lease,
      interval: mine?.interval,
      last: mine?.slot,
      name,
    });
    return released === 1;
  }

  /** Throws a KettleStoreError that says why when Redis does not answer. */
  async holder(name: string): Promise<string | null> {
    const action = `holder(${JSON.stringify(name)})`;
    try {
      // A read may wait for a connection still coming up (unlike a lock command, it does no harm
      // late); not for one in an outage already reported, which it would only wait out.
      if (!this.lastErrors.has('commands')) await this.waitUntilReady(READ_WAIT_MS);
      this.leases.flush();
      if (this.client.status !== 'ready')
        throw new KettleStoreError(
          'not-connected',
          `Redis is not connected (${this.client.status})`,
        );
      // A hung server keeps its connection open: only a timeout tells.
      const lease = await withTimeout(
        this.client.get(this.key(name, 'lock')),
        READ_WAIT_MS,
        action,
      );
      return lease === null ? null : holderOf(lease);
    } catch (error) {
      throw storeReadError(action, error, this.lastErrors.get('commands'));
    }
  }

  async claimRun(
    name: string,
    lease: string,
    intervalMs: number,
    ttlMs: number,
  ): Promise<ClaimResult> {
    this.ensureConnected();
    this.ensureAlive(lease);
    const item = this.claimItem(name, lease, intervalMs, ttlMs);
    return this.claimAnswer(item, await this.lease(item));
  }

  /** The claims go in this turn's LEASES call, each answered as its command's reply comes. */
  claimRuns(
    claims: readonly RunClaim[],
    answered: (index: number, answer: RunClaimAnswer) => void,
  ): void {
    this.ensureConnected();
    const items: ClaimItem[] = [];
    const receiver: BatchReceiver<LeaseReply> = {
      answered: (i, reply) => answered(i, this.claimReply(items[i]!, reply)),
      failed: (i, error) => answered(i, { outcome: 'failed', error }),
    };
    for (let i = 0; i < claims.length; i++) {
      const { name, lease, intervalMs, ttlMs } = claims[i]!;
      try {
        this.ensureAlive(lease);
      } catch (error) {
        answered(i, { outcome: 'failed', error });
        continue;
      }
      items[i] = this.claimItem(name, lease, intervalMs, ttlMs);
      this.leases.submitTo(items[i]!, receiver, i);
    }
  }

  /** A claim's reply, refused in Redis (a key of another type) as a call of its own would be. */
  private claimReply(item: ClaimItem, reply: LeaseReply): RunClaimAnswer {
    if (reply[0] !== LEASE_FAILED) return this.claimAnswer(item, reply);
    const error = new Error(String(reply[1]));
    this.noteRefusal(error);
    return { outcome: 'failed', error };
  }

  /** A claim's LEASES item: with the slot this leadership claimed last, when this node knows it. */
  private claimItem(name: string, lease: string, intervalMs: number, ttlMs: number): ClaimItem {
    const lock = this.key(name, 'lock');
    const interval = Math.max(1, Math.round(intervalMs));
    const claimed = this.claimedSlots.get(lock);
    const last =
      claimed?.lease === lease && claimed.interval === interval ? claimed.slot : undefined;
    return {
      op: LEASE_OPS.claim,
      lock,
      other: this.key(name, 'lastrun'),
      lease,
      ttl: ttlMs,
      interval,
      last,
    };
  }

  private claimAnswer(item: ClaimItem, [code, ms, slot]: LeaseReply): ClaimResult {
    const { lock, lease, interval } = item;
    if (code === 1) {
      const claimed = this.claimedSlots.get(lock);
      // Updated in place: a new record per run would be 10,000 a second.
      if (claimed?.lease === lease && claimed.interval === interval) claimed.slot = Number(slot);
      else this.claimedSlots.set(lock, { lease, slot: Number(slot), interval });
      return { outcome: 'run', nextInMs: Number(ms), slotMs: Number(slot) };
    }
    if (code === 0) return { outcome: 'wait', waitMs: Number(ms) };
    this.forgetSlot(lock, lease);
    return { outcome: 'not-holder' };
  }

  async claimSlot(
    name: string,
    lease: string,
    slotMs: number,
    ttlMs: number,
    options: SlotClaimOptions,
  ): Promise<SlotClaim> {
    this.ensureConnectedInOrder();
    this.ensureAlive(lease);
    const [code, ms, recorded, storeNow] = await this.refused(
      this.client.kettleClaimSlot(
        this.key(name, 'lock'),
        this.slotKey(name, options.key),
        lease,
        ttlMs,
        Math.round(slotMs),
        options.term,
        Math.round(options.graceMs),
        options.catchUp ? 1 : 0,
        Math.max(1, Math.round(options.keepMs)),
        sinceLastMs(options),
        options.schedule ?? '',
      ),
    );
    return withRecorded(slotClaim(code, Number(ms)), options, recorded, Number(storeNow));
  }

  async announceNode(nodeId: string, token: string, ttlMs: number): Promise<string | null> {
    this.ensureConnectedInOrder();
    const key = nodeKey(this.options.keyPrefix, nodeId);
    return (
      (await this.client.kettleNodePresence(key, token, Math.max(1, Math.round(ttlMs)))) ?? null
    );
  }

  async heartbeat(member: FleetMember, ttlMs: number): Promise<FleetMember[]> {
    this.ensureConnectedInOrder();
    const { nodeId, leading, balanced, group } = member;
    const ttl = ttlMs > 0 ? Math.max(1, Math.round(ttlMs)) : 0;
    const flat = await this.client.kettleFleet(
      fleetKey(this.options.keyPrefix),
      nodeId,
      ttl,
      leading,
      balanced,
      group,
    );
    return fleetMembers(flat);
  }

  get connected(): boolean {
    return this.client.status === 'ready';
  }

  onConnected(listener: () => void): () => void {
    this.connectedListeners.add(listener);
    return () => this.connectedListeners.delete(listener);
  }

  /**
   * A lock command sent `waitedMs` ago got no answer in time: if it went on the connection that is
   * up now, that connection (and the subscriber, which goes to the same address) is dropped for a
   * new one. However many elections time out on one dead connection, it is dropped once, and a new
   * connection is never dropped for a command sent before it.
   */
  commandTimedOut(waitedMs: number): void {
    const sentAt = performance.now() - waitedMs;
    if (this.closed || !this.drop(this.client, 'commands', sentAt)) return;
    this.report('commands', new Error(messages.connectionUnanswered()));
    this.drop(this.subscriber, 'subscriber', sentAt);
  }

  onReleased(listener: (name: string) => void, only?: string): () => void {
    const remove = this.releasedListeners.add(listener, only);
    this.openSubscriber();
    return remove;
  }

  /**
   * A subscribed connection can do nothing else, so releases arrive on a connection of their own;
   * with crashDetection, its own channel tells the other nodes that this one lives. Each channel
   * is subscribed on its own, so that an ACL that refuses one leaves the other.
   */
  private openSubscriber(): void {
    if (this.subscriber) return;
    const subscriber = this.open(
      { ...SUBSCRIBER_CONNECTION, connectionName: this.clientName('kettle-sub') },
      'subscriber',
    );
    subscriber.on('message', (channel: string, name: string) => {
      if (channel === this.channel) this.releasedListeners.notify(name);
    });
    // On every (re)connect, and again after a refusal until it is taken.
    const subscribe = (): void => {
      clearTimeout(this.resubscribe);
      subscriber.subscribe(this.channel).catch((error: Error) => {
        this.report('subscriber', error);
        if (!this.closed && subscriber.status === 'ready')
          this.resubscribe = setTimeout(subscribe, RESUBSCRIBE_MS);
      });
    };
    const alive = `${this.aliveChannels}${this.connectionToken}`;
    const subscribeAlive = (): void => {
      clearTimeout(this.resubscribeAlive);
      subscriber.subscribe(alive).then(
        () => {
          if (subscriber.status !== 'ready') return;
          this.lastErrors.delete(ALIVE);
          this.aliveRefused = false;
          this.aliveSince = performance.now();
          for (const listener of this.signalListeners) listener(true);
        },
        (error: Error) => {
          // Its own key: two channels refused for two reasons would each hide the other's.
          this.report(ALIVE, error);
          this.aliveRefused = isRefusal(error);
          if (!this.closed && subscriber.status === 'ready')
            this.resubscribeAlive = setTimeout(subscribeAlive, RESUBSCRIBE_MS);
        },
      );
    };
    subscriber.on('ready', subscribe);
    if (this.connectionSignal) {
      subscriber.on('ready', subscribeAlive);
      subscriber.on('close', () => {
        if (this.aliveSince === undefined) return;
        this.aliveSince = undefined;
        for (const listener of this.signalListeners) listener(false);
      });
    }
    this.subscriber = subscriber;
  }

  /**
   * The signal works here when the server, asked inside a script (as LEASES's take over asks),
   * counts this store's own subscription: not on Cluster (a node counts only its own subscribers),
   * nor behind a proxy that does not pass subscriptions on, nor under an ACL that refuses them.
   */
  private async probeSignal(): Promise<string | undefined> {
    if (this.client.isCluster) return messages.signalOnCluster;
    this.ensureConnected();
    if (this.aliveSince === undefined) {
      // Refused by the server (an ACL, a proxy or a server without SUBSCRIBE): it will not pass.
      const refused = this.lastErrors.get(ALIVE);
      if (refused && isRefusal(refused)) return refused.message;
      throw new KettleStoreError('not-connected', 'the subscriber is not subscribed yet');
    }
    const alive = `${this.aliveChannels}${this.connectionToken}`;
    let count: unknown;
    try {
      count = await withTimeout(
        this.client.eval(COUNT_SUBSCRIBERS, 0, alive),
        READ_WAIT_MS,
        'PUBSUB NUMSUB',
      );
    } catch (error) {
      if (error instanceof Error && isRefusal(error)) return error.message;
      throw error;
    }
    if (Number(count) < 1) return messages.signalNotSeen;
    this.signalWorks = true;
    return undefined;
  }

  private async checkTokens(tokens: readonly string[]): Promise<SignalCheck> {
    this.ensureConnected();
    // An answer comes on the connection it was sent on, or not at all.
    const connection = this.connections;
    if (tokens.length === 0) return { connection, live: new Set() };
    const counts = (await withTimeout(
      this.client.pubsub('NUMSUB', ...tokens.map((token) => `${this.aliveChannels}${token}`)),
      READ_WAIT_MS,
      'PUBSUB NUMSUB',
    )) as (string | number)[];
    return { connection, live: new Set(tokens.filter((_, i) => Number(counts[2 * i + 1]) > 0)) };
  }

  /**
   * While this store's subscriber is down, its leases may be taken over at any moment: a claim of
   * one fails, so that no run starts on a lease another node may hold by the time it runs. Not
   * when the server refuses the channel (an ACL change): that would stop every run for good, on a
   * node with no follower to take over; the master still renews twice a poll meanwhile.
   */
  private ensureAlive(lease: string): void {
    if (!this.signalWorks || this.aliveSince !== undefined || this.aliveRefused) return;
    if (connectionOf(lease) === undefined) return;
    throw new KettleStoreError('not-connected', messages.signalDown);
  }

  /**
   * Until the connection is ready, or an attempt fails (refused, a wrong password: an outage now
   * reported, that the caller says as such, not as a timeout), at most `ms`.
   */
  private async waitUntilReady(ms: number): Promise<void> {
    if (this.client.status === 'ready' || this.client.status === 'end') return;
    let settle!: () => void;
    const ready = new Promise<void>((resolve) => (settle = resolve));
    this.client.once('ready', settle);
    this.client.once('error', settle);
    await settlesWithin(ready, ms);
    this.client.off('ready', settle);
    this.client.off('error', settle);
  }

  /** QUITs each connection, waiting at most `timeoutMs` for the answers, then drops them. */
  async close(timeoutMs = QUIT_WAIT_MS): Promise<void> {
    // The lease commands of this turn (a release, say) leave before the QUIT.
    this.leases.flush();
    this.closed = true;
    clearTimeout(this.resubscribe);
    clearTimeout(this.resubscribeAlive);
    this.releasedListeners.clear();
    this.connectedListeners.clear();
    this.signalListeners.clear();
    const waitMs = Math.min(timeoutMs, QUIT_WAIT_MS);
    await Promise.all([this.client, this.subscriber].map((c) => (c ? quit(c, waitMs) : undefined)));
  }

  private async lease(item: LeaseItem): Promise<LeaseReply> {
    const reply = await this.leases.submit(item);
    // Refused in Redis (a key of another type): this lease fails alone, as a call of its own would.
    if (reply[0] === LEASE_FAILED) return this.refused(Promise.reject(new Error(String(reply[1]))));
    return reply;
  }

  private async sendLeases(items: LeaseItem[]): Promise<LeaseReply[]> {
    const keys: string[] = [];
    const args: (string | number)[] = [this.channel, this.aliveChannels];
    for (const { op, lock, other, lease, ttl, interval, last, name } of items) {
      keys.push(lock, other);
      args.push(`${op}:${whole(ttl)}:${whole(interval)}:${whole(last)}`, lease, name ?? '');
    }
    const flat = await this.refused(this.client.kettleLeases(keys.length, ...keys, ...args));
    return items.map((_, i) => {
      const code = flat[3 * i];
      return [
        code === LEASE_FAILED ? code : Number(code),
        flat[3 * i + 1]!,
        Number(flat[3 * i + 2]),
      ];
    });
  }

  /** Forgets the slot `lease` claimed last on `lock`: that leadership is over here. */
  private forgetSlot(lock: string, lease: string): void {
    if (this.claimedSlots.get(lock)?.lease === lease) this.claimedSlots.delete(lock);
  }

  /** CLIENT SETNAME takes no spaces or newlines. */
  private clientName(role: string): string {
    const name = this.options.clientName?.replace(/[^\x21-\x7e]/g, '_');
    return name ? `${role}:${name}` : role;
  }

  /** An election's keys, built once per name: every claim of every election needs them. */
  protected key(name: string, kind: ElectionKeyKind): string {
    let keys = this.keys.get(name);
    if (!keys) {
      // Elections joined and left by the thousand (one per tenant) do not grow it for ever.
      if (this.keys.size >= MAX_CACHED_NAMES) this.keys.clear();
      keys = {};
      this.keys.set(name, keys);
    }
    return (keys[kind] ??= electionKey(this.options.keyPrefix, name, kind));
  }

  protected slotKey(name: string, key?: string): string {
    return slotKey(this.options.keyPrefix, name, key);
  }

  private open(
    flags: Partial<RedisOptions>,
    where: string,
    clusterFlags: Partial<ClusterOptions> = {},
  ): Redis | Cluster {
    const { connection } = this.options;
    let client: Redis | Cluster;
    if ('client' in connection) {
      const template = connection.client;
      if (template.isCluster) {
        const cluster = template as Cluster;
        // Each node connection keeps an offline queue whatever the options say (ioredis needs it
        // for nodes it connects to lazily); the cluster's own queue is what flags turn off.
        client = cluster.duplicate(undefined, {
          ...clusterFlags,
          enableOfflineQueue: flags.enableOfflineQueue,
          // The user's client may be lazy; kettle's copies must connect at once, as with Redis.
          lazyConnect: flags.lazyConnect,
          redisOptions: { ...cluster.options.redisOptions, ...flags },
        });
      } else {
        const redis = template as Redis;
        client = redis.duplicate({ ...flags, ...this.recovery(where, redis.options) });
      }
    } else if ('url' in connection) {
      const options = connection.options ?? {};
      client = new Redis(connection.url, {
        ...options,
        ...flags,
        ...this.recovery(where, options),
      });
    } else {
      const { options } = connection;
      client = new Redis({
        ...sentinelDefaults(options),
        ...options,
        ...flags,
        ...this.recovery(where, options),
      });
    }
    client.on('error', (error: Error) => this.report(where, error));
    client.on('ready', () => {
      this.lastErrors.delete(where);
      this.readyAt.set(where, performance.now());
    });
    return client;
  }

  /**
   * How one of kettle's connections comes back. It keeps reconnecting: by the user's retryStrategy
   * while that gives a delay, else by kettle's own backoff (the elections cannot do without it). A
   * reply saying the server is not a writable primary makes it reconnect too, as a user's own
   * reconnectOnError may; the command is never sent again (1, not 2).
   */
  private recovery(
    where: string,
    { retryStrategy, reconnectOnError }: RedisOptions,
  ): Pick<RedisOptions, 'retryStrategy' | 'reconnectOnError'> {
    return {
      retryStrategy: (attempt) => {
        let outcome: string;
        try {
          const delay: unknown = (retryStrategy ?? reconnectSoon)(attempt);
          if (typeof delay === 'number') return delay;
          outcome = `returned ${describeError(delay)}`;
        } catch (error) {
          outcome = `threw (${describeError(error)})`;
        }
        if (!this.retryGaveUp.has(where) && !this.closed) {
          this.retryGaveUp.add(where);
          this.options.onError?.(where, new Error(messages.retryStrategyGaveUp(outcome)));
        }
        return reconnectSoon(attempt);
      },
      reconnectOnError: (error) => {
        if (NOT_WRITABLE_PRIMARY.test(error.message)) {
          this.readyAt.delete(where);
          if (where === 'commands') this.drop(this.subscriber, 'subscriber', performance.now());
          return 1;
        }
        try {
          return reconnectOnError?.(error) ? 1 : false;
        } catch {
          return false;
        }
      },
    };
  }

  /** Drops `client`'s connection for a new one if it was ready by `since`; true when it did. */
  private drop(client: Redis | Cluster | undefined, where: string, since: number): boolean {
    const readyAt = this.readyAt.get(where);
    // Cluster moves slots and fails over by itself; its node connections are its own.
    if (!client || client.isCluster || readyAt === undefined || readyAt > since) return false;
    this.readyAt.delete(where);
    client.disconnect(true);
    return true;
  }

  /**
   * A lease key evicted under memory pressure ends a leadership its master still believes in, until
   * its next renewal: any policy but noeviction may do that. INFO, not CONFIG, which managed Redis
   * often renames or forbids; if INFO fails too, there is nothing to say.
   */
  private async checkEviction(): Promise<void> {
    const info = await this.client.info('memory').catch(() => '');
    const policy = /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
    if (policy && policy !== 'noeviction')
      this.options.onWarning?.(messages.evictingPolicy(policy));
  }

  /** ioredis repeats the same error on every reconnect attempt: report each outage once. */
  private report(where: string, error: Error): void {
    if (this.lastErrors.get(where)?.message === error.message) return;
    this.lastErrors.set(where, error);
    this.options.onError?.(where, error);
  }

  /** A lock command is never queued: without a connection it fails at once, and says why. */
  protected ensureConnected(): void {
    if (this.client.status === 'ready') return;
    const cause = this.lastErrors.get('commands');
    throw new KettleStoreError(
      'not-connected',
      `Redis is not connected (${cause?.message ?? this.client.status})`,
      { cause },
    );
  }

  /**
   * For a command sent on its own: as ensureConnected, and the lease commands queued for this turn
   * go first, so that commands leave in the order they were called.
   */
  protected ensureConnectedInOrder(): void {
    this.ensureConnected();
    this.leases.flush();
  }

  /**
   * A lock command refused for a reason of the configuration (NOPERM for a script or a key) is
   * reported as a connection error is: the log says it at ERROR, once.
   */
  protected refused<T>(command: Promise<T>): Promise<T> {
    return command.catch((error: unknown) => {
      this.noteRefusal(error);
      throw error;
    });
  }

  /**
   * A refusal of the configuration (an ACL's NOPERM...) is reported once per message. It may be
   * heard while a batch's answers are handed out: what `onError` throws goes no further.
   */
  private noteRefusal(error: unknown): void {
    if (!(error instanceof Error) || !isConfigurationError(error)) return;
    if (this.refusals.has(error.message)) return;
    this.refusals.add(error.message);
    try {
      this.options.onError?.('commands', error);
    } catch {
      // The refusal is the caller's answer anyway.
    }
  }
}

/** A LEASES argument in whole ms ('' when not given: the script does not read it). */
function whole(ms: number | undefined): number | string {
  return ms === undefined ? '' : Math.max(1, Math.round(ms));
}

/** The since-last period of a claim, in whole ms; 0 when the claim is of a slot. */
export function sinceLastMs(options: SlotClaimOptions): number {
  return options.sinceLastMs === undefined ? 0 : Math.max(1, Math.round(options.sinceLastMs));
}

/** `claim`, told the schedule recorded with the last slot when it is not the claimer's. */
export function withRecorded(
  claim: SlotClaim,
  options: SlotClaimOptions,
  recorded: string | null | undefined,
  storeNowMs: number,
): SlotClaim {
  if (claim.outcome === 'not-holder') return claim;
  const differs = recorded && options.schedule !== undefined && recorded !== options.schedule;
  return differs ? { ...claim, recordedSchedule: recorded, storeNowMs } : { ...claim, storeNowMs };
}

/** CLAIM_SLOT's reply as a SlotClaim. */
function slotClaim(code: number, ms: number): SlotClaim {
  if (code === 1) return { outcome: 'run' };
  if (code === 0) return { outcome: 'already-ran', lastSlotMs: ms };
  if (code === 2) return { outcome: 'early', waitMs: ms };
  if (code === 3) return { outcome: 'late', lateMs: ms };
  return { outcome: 'not-holder' };
}

/** QUIT politely when connected, but never wait longer than `waitMs` on a server that does not answer. */
async function quit(client: Redis | Cluster, waitMs: number): Promise<void> {
  if (client.status === 'end') return;
  if (client.status === 'ready' && waitMs > 0)
    await settlesWithin(
      client.quit().catch(() => undefined),
      waitMs,
    );
  client.disconnect();
}

/** The FLEET script's flat answer (node id, leading, balanced, beats, age, group, ...) as members. */
export function fleetMembers(flat: readonly (string | number)[]): FleetMember[] {
  const members: FleetMember[] = [];
  for (let i = 0; i + 5 < flat.length; i += 6)
    members.push({
      nodeId: String(flat[i]),
      leading: Number(flat[i + 1]),
      balanced: Number(flat[i + 2]),
      beats: Number(flat[i + 3]),
      ageMs: Number(flat[i + 4]),
      group: String(flat[i + 5]),
    });
  return members;
}

/** Error replies of a server that will answer otherwise soon: a script running, a load, a failover. */
const PASSING_REPLY = /^(BUSY|LOADING|MASTERDOWN|TRYAGAIN|CLUSTERDOWN)\b/;

/**
 * The server answered with an error (ioredis's ReplyError) that asking again will not change,
 * unlike a connection that is not there yet or a server busy for a moment.
 */
function isRefusal(error: Error): boolean {
  if (isConfigurationError(error)) return true;
  return error.name === 'ReplyError' && !PASSING_REPLY.test(error.message);
}
