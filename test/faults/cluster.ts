import { type Child, children } from '#tools/children.js';
import { monotonicNow } from '#tools/clock.js';
import { readEventLines } from '#tools/event-lines.js';
import { RedisServer } from '#tools/redis-server.js';
import { waitFor } from '#tools/wait.js';
import type { FaultEvent } from './invariants.js';
import { uniquePrefix } from '../support/nodes.js';

const NODE_PROGRAM = new URL('./node/dist/main.js', import.meta.url).pathname;
/** How long a node may take to close and exit by itself after SIGTERM. */
const STOP_GRACE_MS = 8000;

export interface ClusterSettings {
  redisUrl: string;
  keyPrefix: string;
  intervalMs: number;
  leaseMs: number;
  elections?: string[];
  runMs?: number;
}

/** Fault-suite nodes as separate processes, and the events they all write, in one timeline. */
export class FaultCluster {
  readonly events: FaultEvent[] = [];
  private readonly nodes = new Map<string, Child>();

  /** The Redis of its own that `onNewRedis` started: `close()` kills it. */
  redis?: RedisServer;

  constructor(private readonly settings: ClusterSettings) {}

  /** A cluster on a redis-server of its own, under a key prefix of its own. */
  static async onNewRedis(
    settings: Omit<ClusterSettings, 'redisUrl' | 'keyPrefix'>,
  ): Promise<FaultCluster & { redis: RedisServer }> {
    const redis = await RedisServer.start();
    const cluster = new FaultCluster({
      ...settings,
      redisUrl: redis.url,
      keyPrefix: uniquePrefix(),
    });
    cluster.redis = redis;
    return cluster as FaultCluster & { redis: RedisServer };
  }

  /** `stop()`, then kills the Redis that `onNewRedis` started. */
  async close(): Promise<void> {
    await this.stop();
    await this.redis?.kill();
  }

  /** Starts a node; `env` overrides, e.g. { REDIS_URL } through a proxy or { HANG: 'a' }. */
  add(id: string, env: Record<string, string> = {}): void {
    const {
      redisUrl,
      keyPrefix,
      intervalMs,
      leaseMs,
      elections = ['job'],
      runMs = 0,
    } = this.settings;
    const child = children.spawn(process.execPath, [NODE_PROGRAM], {
      env: {
        ...process.env,
        NODE_ID: id,
        REDIS_URL: redisUrl,
        KEY_PREFIX: keyPrefix,
        INTERVAL_MS: String(intervalMs),
        LEASE_MS: String(leaseMs),
        ELECTIONS: elections.join(','),
        RUN_MS: String(runMs),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    void child.exited.then(({ code, signal }) =>
      this.events.push({ t: monotonicNow(), node: id, ev: 'exit', code, signal }),
    );
    readEventLines<FaultEvent>(child.process.stdout!, (event) => this.events.push(event));
    child.process.stderr!.on('data', (data: Buffer) => {
      if (process.env.FAULTS_DEBUG) process.stderr.write(`[${id}] ${data}`);
    });
    this.nodes.set(id, child);
  }

  async start(ids: string[], env?: Record<string, string>): Promise<void> {
    for (const id of ids) this.add(id, env);
    await waitFor(() => ids.every((id) => this.has(id, 'up')), 'every node to boot', 20_000);
  }

  has(node: string, ev: string, after = 0): boolean {
    return this.events.some((e) => e.node === node && e.ev === ev && e.t > after);
  }

  /** The node that last became master of `election` and has not stepped down or died since. */
  master(election = 'job'): string | undefined {
    const current = new Map<string, boolean>();
    for (const event of this.events) {
      if (event.election === election && (event.ev === 'elected' || event.ev === 'revoked')) {
        current.set(event.node, event.ev === 'elected');
      }
      if (event.ev === 'exit') current.delete(event.node);
    }
    const masters = [...current].filter(([, isMaster]) => isMaster).map(([node]) => node);
    return masters.length === 1 ? masters[0] : undefined;
  }

  /** How many of `elections` each live node leads now, by the events (an exit ends them all). */
  leadingCounts(elections: readonly string[]): Map<string, number> {
    const counts = new Map<string, number>();
    for (const id of this.nodes.keys()) if (this.nodes.get(id)!.alive) counts.set(id, 0);
    for (const election of elections) {
      const node = this.master(election);
      if (node !== undefined) counts.set(node, (counts.get(node) ?? 0) + 1);
    }
    return counts;
  }

  /** The first node other than `except` elected for `election` after `after`. */
  async nextMaster(
    after: number,
    except: string,
    timeoutMs: number,
    election = 'job',
  ): Promise<FaultEvent> {
    return waitFor(
      () =>
        this.events.find(
          (e) => e.ev === 'elected' && e.election === election && e.node !== except && e.t > after,
        ),
      `a new master of ${election}`,
      timeoutMs,
    );
  }

  /** The events as text, one a line, for debugging a failed test (FAULTS_DEBUG=1). */
  timeline(): string {
    const t0 = this.events[0]?.t ?? 0;
    return [...this.events]
      .sort((a, b) => a.t - b.t)
      .map(
        (e) =>
          `${(e.t - t0).toFixed(0).padStart(6)} ${e.node} ${e.ev} ${e.election ?? ''} ${e.term ?? ''} ${e.reason ?? e.aborted ?? e.accepted ?? e.message ?? ''}`,
      )
      .join('\n');
  }

  signal(id: string, signal: NodeJS.Signals): void {
    this.nodes.get(id)?.signal(signal);
  }

  /** SIGTERM to every live node; each must close and then exit by itself (no leaked handles). */
  async stop(): Promise<Array<{ id: string; exitedAlone: boolean }>> {
    const live = [...this.nodes].filter(([, child]) => child.alive);
    return Promise.all(
      live.map(async ([id, child]) => ({ id, exitedAlone: await child.stop(STOP_GRACE_MS) })),
    );
  }
}
