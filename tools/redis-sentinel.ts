import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RedisServer } from './redis-server.js';
import { TcpProxy } from './tcp-proxy.js';
import { waitFor } from './wait.js';

/** Short enough that a failover takes a few seconds, not the 30 s + 180 s of the defaults. */
const DOWN_AFTER_MS = 1000;
const FAILOVER_TIMEOUT_MS = 3000;
const QUORUM = 2;

/**
 * One master, one replica and three sentinels on free ports; the sentinels' config files, which
 * they rewrite, in a temp dir.
 * The replica reaches its master through a TcpProxy (`replication`), so a test can hold back the
 * replication stream and fail over to a replica that lags.
 */
export class RedisSentinel {
  readonly name = 'mymaster';
  private readonly sentinelServers: RedisServer[] = [];
  private master?: RedisServer;
  private replica?: RedisServer;
  replication?: TcpProxy;

  private constructor(private readonly dir: string) {}

  static async start(): Promise<RedisSentinel> {
    const topology = new RedisSentinel(mkdtempSync(join(tmpdir(), 'kettle-sentinel-')));
    try {
      await topology.startAll();
    } catch (error) {
      await topology.stop(); // never leave a process nobody holds
      throw error;
    }
    return topology;
  }

  /** ioredis options that reach the current master through the sentinels. */
  get sentinels(): Array<{ host: string; port: number }> {
    return this.sentinelServers.map(({ port }) => ({ host: '127.0.0.1', port }));
  }

  get masterPort(): number {
    return this.master!.port;
  }

  get replicaPort(): number {
    return this.replica!.port;
  }

  /** SIGKILL of the first master: gone at once, writes not yet replicated are lost. */
  async killMaster(): Promise<void> {
    await this.master?.kill();
  }

  /** The master's port as the sentinels see it now. */
  async currentMasterPort(): Promise<number> {
    const [sentinel] = this.sentinelServers;
    const [, port] = (await sentinel.admin.call(
      'SENTINEL',
      'GET-MASTER-ADDR-BY-NAME',
      this.name,
    )) as string[];
    return Number(port);
  }

  /** Asks a sentinel for a failover while the master is still up (a planned switch). */
  async failover(): Promise<void> {
    await this.sentinelServers[0].admin.call('SENTINEL', 'FAILOVER', this.name);
  }

  async stop(): Promise<void> {
    for (const sentinel of this.sentinelServers.splice(0)) await sentinel.kill();
    await this.replica?.kill();
    await this.master?.kill();
    await this.replication?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startAll(): Promise<void> {
    this.master = await RedisServer.start();
    this.replication = await TcpProxy.start(this.master.port);
    this.replica = await RedisServer.start({
      args: ['--replicaof', '127.0.0.1', String(this.replication.port)],
    });
    await this.replica.synced();
    // A sentinel learns of the replica from the master's INFO, at once when the link is already up.
    for (let i = 0; i < 3; i++) this.sentinelServers.push(await this.startSentinel(i));
    await this.waitForSentinels();
  }

  /** A sentinel: a redis-server in sentinel mode, with a config file of its own to rewrite. */
  private async startSentinel(index: number): Promise<RedisServer> {
    const config = join(this.dir, `sentinel-${index}.conf`);
    writeFileSync(
      config,
      [
        `sentinel monitor ${this.name} 127.0.0.1 ${this.master!.port} ${QUORUM}`,
        `sentinel down-after-milliseconds ${this.name} ${DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${this.name} ${FAILOVER_TIMEOUT_MS}`,
        `sentinel parallel-syncs ${this.name} 1`,
        '',
      ].join('\n'),
    );
    return RedisServer.start({ config, args: ['--sentinel'] });
  }

  /** Failover needs a quorum that knows the replica: every sentinel must see the two others. */
  private async waitForSentinels(): Promise<void> {
    await waitFor(
      async () => {
        for (const { admin } of this.sentinelServers) {
          const peers = (await admin.call('SENTINEL', 'SENTINELS', this.name)) as unknown[];
          const replicas = (await admin.call('SENTINEL', 'REPLICAS', this.name)) as unknown[];
          if (peers.length < 2 || replicas.length < 1) return false;
        }
        return true;
      },
      'the sentinels to find each other and the replica',
      20_000,
    );
  }
}
