import type { WriteStream } from 'node:fs';
import { join } from 'node:path';
import { epochNow } from '#tools/clock.js';
import { sleep } from '#tools/wait.js';
import type { RedisServer } from '#tools/redis-server.js';
import { type Traffic, TcpProxy } from '#tools/tcp-proxy.js';
import { resetRedis } from '../infra/command-stats.js';
import type { NodeMessage } from '../nodes/protocol.js';
import type { Peer } from '../peers.js';
import { NodeProcess } from './node-process.js';

/** What every scenario runs on: the bench's Redis, the nodes' log, and the node programs. */
export interface Stage {
  redis: RedisServer;
  log: WriteStream;
  /** The node programs, from the snapshot taken at the start of the run (infra/snapshot.ts). */
  nodesDir: string;
}

export interface ClusterSettings {
  interval: number;
  leaseTtl: number;
  /** Elections per node (scale scenario); 1 elsewhere. */
  elections: number;
  /** The job's cron expression (cron scenario). */
  cron?: string;
}

export interface RunRecord {
  node: string;
  t: number;
  term?: number;
  slot?: number;
}

/** Nodes started at once, at most: each one loads its modules for a CPU second or more. */
const SPAWN_BATCH = 4;

/**
 * The nodes of one peer against the bench Redis, each behind its own counting proxy, and every
 * record they print. Nodes are numbered in order of start: `<peer>-1`, `<peer>-2`, ...
 */
export class Cluster {
  readonly nodes = new Map<string, NodeProcess>();
  readonly runs: RunRecord[] = [];
  private readonly proxies = new Map<string, TcpProxy>();
  private readonly listeners = new Set<(message: NodeMessage) => void>();
  private spares: NodeProcess[] = [];
  private sequence = 0;

  constructor(
    readonly peer: Peer,
    private readonly stage: Stage,
    readonly settings: ClusterSettings,
  ) {}

  /** A cluster on an emptied Redis with zeroed counters: every session and step starts alike. */
  static async onEmptyRedis(peer: Peer, stage: Stage, settings: ClusterSettings): Promise<Cluster> {
    await resetRedis(stage.redis.admin);
    return new Cluster(peer, stage, settings);
  }

  /** Nodes that have been started and have not exited. */
  live(): NodeProcess[] {
    return [...this.nodes.values()].filter((node) => node.alive);
  }

  /** Starts `count` nodes, warm spares first, and resolves when all are up. */
  async add(count: number): Promise<NodeProcess[]> {
    const started: NodeProcess[] = [];
    while (started.length < count) {
      const batch = this.spares.splice(0, count - started.length);
      const missing = Math.min(SPAWN_BATCH, count - started.length - batch.length);
      batch.push(...(await Promise.all(Array.from({ length: missing }, () => this.spawnParked()))));
      for (const node of batch) this.nodes.set(node.id, node);
      await Promise.all(batch.map((node) => node.start()));
      started.push(...batch);
    }
    return started;
  }

  /** Loads a node's modules now, so that a later add() only boots its app. */
  async prepareSpare(): Promise<void> {
    this.spares.push(await this.spawnParked());
  }

  /** The next message that `match` accepts, or undefined after `timeoutMs`. */
  waitFor<T>(
    match: (message: NodeMessage) => T | undefined,
    timeoutMs: number,
  ): Promise<T | undefined> {
    return new Promise((resolve) => {
      const waiter = (message: NodeMessage) => {
        const found = match(message);
        if (found === undefined) return;
        done(found);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      const done = (value: T | undefined) => {
        clearTimeout(timer);
        this.listeners.delete(waiter);
        resolve(value);
      };
      this.listeners.add(waiter);
    });
  }

  /** Calls `listener` with every message of every node from now on; returns how to stop. */
  listen(listener: (message: NodeMessage) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves once every live node's app has been up for `ms`. */
  async upFor(ms: number): Promise<void> {
    if (ms <= 0) return;
    const latest = Math.max(...this.live().map((node) => node.readyAt ?? epochNow()));
    const wait = latest + ms - epochNow();
    if (wait > 0) await sleep(wait);
  }

  /** The next run of election 0 after now, by any node. */
  nextRun(timeoutMs: number): Promise<RunRecord | undefined> {
    const after = epochNow();
    return this.waitFor((m) => (m.ev === 'run' && m.t >= after ? m : undefined), timeoutMs);
  }

  traffic(): Map<string, Traffic> {
    const traffic = new Map<string, Traffic>();
    for (const [id, proxy] of this.proxies) traffic.set(id, proxy.traffic());
    return traffic;
  }

  /** Kills every node (leases are left to expire: the next scenario starts on an empty Redis). */
  async close(): Promise<void> {
    const nodes = [...this.nodes.values(), ...this.spares.splice(0)];
    for (const node of nodes) node.signal('SIGKILL');
    await Promise.all(nodes.map((node) => node.exited));
    await Promise.all([...this.proxies.values()].map((proxy) => proxy.close()));
  }

  /** A parked node. One that dies while loading its modules is replaced, twice at most. */
  private async spawnParked(): Promise<NodeProcess> {
    for (let attempt = 1; ; attempt++) {
      const node = await this.spawn();
      try {
        await node.parked;
        return node;
      } catch (error) {
        if (attempt === 3) throw error;
        this.stage.log.write(`${node.id}: ${String(error)}; starting another\n`);
        await sleep(1000);
      }
    }
  }

  private async spawn(): Promise<NodeProcess> {
    const nodeId = `${this.peer.id}-${++this.sequence}`;
    const proxy = await TcpProxy.start(this.stage.redis.port);
    this.proxies.set(nodeId, proxy);
    const { interval, leaseTtl, elections, cron } = this.settings;
    return new NodeProcess({
      script: join(this.stage.nodesDir, this.peer.script),
      nodeId,
      redisUrl: proxy.url,
      env: {
        ...this.peer.env,
        INTERVAL_MS: String(interval),
        LEASE_TTL_MS: String(leaseTtl),
        ELECTIONS: String(elections),
        ...(cron && { CRON: cron }),
      },
      log: this.stage.log,
      onMessage: (message) => this.receive(message),
    });
  }

  private receive(message: NodeMessage): void {
    if (message.ev === 'run')
      this.runs.push({ node: message.node, t: message.t, term: message.term, slot: message.slot });
    // A waiter that matches removes itself; deleting from a Set while iterating it is safe.
    for (const listener of this.listeners) listener(message);
  }
}

/**
 * Runs `measure`, which fills in `step`, and closes `cluster` after. A step that fails keeps what
 * it measured, and why it stopped in `error`: the bench moves on to the next.
 */
export async function measureStep<S extends { error?: string }>(
  cluster: Cluster,
  step: S,
  measure: () => Promise<unknown>,
): Promise<S> {
  try {
    await measure();
  } catch (error) {
    step.error = error instanceof Error ? error.message : String(error);
  } finally {
    await cluster.close();
  }
  return step;
}
