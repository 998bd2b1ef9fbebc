import { Redis } from 'ioredis';
import { RedisServer } from '#tools/redis-server.js';
import { TcpProxy } from '#tools/tcp-proxy.js';
import { sleep } from '#tools/wait.js';
import { uniquePrefix } from '../support/nodes.js';
import { FaultCluster } from './cluster.js';

export const QUORUM_SERVERS = 3;
export const QUORUM_MAJORITY = 2;

/**
 * Fault nodes (separate processes) electing on a quorum of three private redis-servers. Each node
 * reaches each server through a proxy of its own, so that one node can be cut off from one server
 * or two; the fenced resource lives on a fourth server, which no fault touches.
 */
export class QuorumRig {
  readonly servers: RedisServer[] = [];
  /** Per node, its proxy to each server, in server order. */
  readonly links = new Map<string, TcpProxy[]>();
  readonly keyPrefix = uniquePrefix();
  private readonly admins: Redis[] = [];
  private resource?: RedisServer;
  private nodes?: FaultCluster;
  private serial = 0;

  constructor(private readonly settings: { intervalMs: number; leaseMs: number; runMs?: number }) {}

  get cluster(): FaultCluster {
    if (!this.nodes) throw new Error('the rig has not started');
    return this.nodes;
  }

  /** Starts the servers, then `nodes` nodes; `stop()` cleans up whatever started, even on failure. */
  async start(nodes: number): Promise<void> {
    for (let i = 0; i < QUORUM_SERVERS; i++) this.servers.push(await RedisServer.start());
    this.resource = await RedisServer.start();
    for (const server of this.servers) {
      // Reads who holds the lease on each server directly, not through any node's proxy.
      const admin = new Redis(server.port, { retryStrategy: () => 50, maxRetriesPerRequest: 1 });
      admin.on('error', () => undefined); // servers are killed on purpose
      this.admins.push(admin);
    }
    const { keyPrefix, resource } = this;
    this.nodes = new FaultCluster({ ...this.settings, redisUrl: resource.url, keyPrefix });
    for (let i = 0; i < nodes; i++) await this.addNode();
  }

  async addNode(): Promise<string> {
    const id = `n${++this.serial}`;
    const links = await Promise.all(this.servers.map((server) => TcpProxy.start(server.port)));
    this.links.set(id, links);
    await this.cluster.start([id], {
      REDIS_URLS: links.map((link) => link.url).join(','),
      RESOURCE_URL: this.resource!.url,
      BLOCK_MS: String(this.settings.leaseMs * 2),
    });
    return id;
  }

  /** Closes the links of a node that exited, and starts another in its place. */
  async replace(node: string): Promise<string> {
    for (const link of this.links.get(node) ?? []) await link.close();
    this.links.delete(node);
    return this.addNode();
  }

  /** The servers on which `node`'s current lease of `election` stands, read directly. */
  async heldBy(node: string, election = 'job'): Promise<number[]> {
    const key = `${this.keyPrefix}{${election}}:lock`;
    const values = await Promise.all(
      this.admins.map((admin) =>
        Promise.race([admin.get(key).catch(() => null), sleep(300).then(() => null)]),
      ),
    );
    // An older lease of the same node may linger on a server: count the one on most servers.
    const held = new Map<string, number[]>();
    values.forEach((value, i) => {
      if (value?.startsWith(`${node}#`)) held.set(value, [...(held.get(value) ?? []), i]);
    });
    return [...held.values()].sort((a, b) => b.length - a.length)[0] ?? [];
  }

  /** Latency on every node's link to one server, each way (0 heals it). */
  slow(server: number, delayMs: number): void {
    for (const links of this.links.values()) links[server].delayMs = delayMs;
  }

  /** Stops every node (SIGTERM; each must exit by itself) and server; returns the leaked nodes. */
  async stop(): Promise<number> {
    let leaks = 0;
    try {
      if (this.nodes) leaks = (await this.nodes.stop()).filter((exit) => !exit.exitedAlone).length;
    } finally {
      for (const admin of this.admins) admin.disconnect();
      for (const links of this.links.values()) for (const link of links) await link.close();
      for (const server of this.servers) await server.kill();
      await this.resource?.kill();
    }
    return leaks;
  }
}
