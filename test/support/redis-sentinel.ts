import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort, RedisServer } from './redis-server.js';
import { TcpProxy } from './tcp-proxy.js';
import { sleep, waitFor } from './wait.js';

/** Short enough that a failover takes a few seconds, not the 30 s + 180 s of the defaults. */
const DOWN_AFTER_MS = 1000;
const FAILOVER_TIMEOUT_MS = 3000;
const QUORUM = 2;

/**
 * One master, one replica and three sentinels on free ports, with their files in a temp dir.
 * The replica reaches its master through a TcpProxy (`replication`), so a test can hold back the
 * replication stream and fail over to a replica that lags.
 */
export class RedisSentinel {
  readonly name = 'mymaster';
  private readonly sentinelProcesses: ChildProcess[] = [];
  readonly sentinelPorts: number[] = [];
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
    return this.sentinelPorts.map((port) => ({ host: '127.0.0.1', port }));
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
    const sentinel = new Redis({ port: this.sentinelPorts[0], lazyConnect: true });
    sentinel.on('error', () => undefined);
    try {
      const [, port] = (await sentinel.call(
        'SENTINEL',
        'GET-MASTER-ADDR-BY-NAME',
        this.name,
      )) as string[];
      return Number(port);
    } finally {
      sentinel.disconnect();
    }
  }

  /** Asks a sentinel for a failover while the master is still up (a planned switch). */
  async failover(): Promise<void> {
    const sentinel = new Redis({ port: this.sentinelPorts[0], lazyConnect: true });
    sentinel.on('error', () => undefined);
    try {
      await sentinel.call('SENTINEL', 'FAILOVER', this.name);
    } finally {
      sentinel.disconnect();
    }
  }

  async stop(): Promise<void> {
    for (const child of this.sentinelProcesses.splice(0)) await killProcess(child);
    await this.replica?.kill();
    await this.master?.kill();
    await this.replication?.close();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startAll(): Promise<void> {
    // Redis writes the replica's RDB (and the sentinels rewrite their configs) in `--dir`.
    const dir = ['--dir', this.dir];
    this.master = await RedisServer.start({ args: dir });
    this.replication = await TcpProxy.start(this.master.port);
    this.replica = await RedisServer.start({
      args: [...dir, '--replicaof', '127.0.0.1', String(this.replication.port)],
    });
    await this.waitForReplica();
    // A sentinel learns of the replica from the master's INFO, at once when the link is already up.
    for (let i = 0; i < 3; i++) this.sentinelPorts.push(await this.startSentinel(i));
    await this.waitForSentinels();
  }

  private async waitForReplica(): Promise<void> {
    const replica = new Redis({ port: this.replica!.port });
    replica.on('error', () => undefined);
    try {
      await waitFor(
        async () => (await replica.info('replication')).includes('master_link_status:up'),
        'the replica to sync',
        15_000,
      );
    } finally {
      replica.disconnect();
    }
  }

  private async startSentinel(index: number): Promise<number> {
    const port = await freePort();
    const config = join(this.dir, `sentinel-${index}.conf`);
    writeFileSync(
      config,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        'protected-mode no',
        `dir ${this.dir}`,
        `sentinel monitor ${this.name} 127.0.0.1 ${this.master!.port} ${QUORUM}`,
        `sentinel down-after-milliseconds ${this.name} ${DOWN_AFTER_MS}`,
        `sentinel failover-timeout ${this.name} ${FAILOVER_TIMEOUT_MS}`,
        `sentinel parallel-syncs ${this.name} 1`,
        '',
      ].join('\n'),
    );
    const child = spawn('redis-server', [config, '--sentinel'], { stdio: 'ignore' });
    this.sentinelProcesses.push(child);
    const probe = new Redis({ port, lazyConnect: true, retryStrategy: () => null });
    probe.on('error', () => undefined);
    try {
      for (let attempt = 0; ; attempt++) {
        if (child.exitCode !== null) throw new Error(`sentinel on port ${port} exited`);
        try {
          await probe.connect();
          await probe.ping();
          return port;
        } catch (error) {
          probe.disconnect();
          if (attempt > 200) throw error;
          await sleep(25);
        }
      }
    } finally {
      probe.disconnect();
    }
  }

  /** Failover needs a quorum that knows the replica: every sentinel must see the two others. */
  private async waitForSentinels(): Promise<void> {
    const clients = this.sentinelPorts.map((port) => new Redis({ port }));
    for (const client of clients) client.on('error', () => undefined);
    try {
      await waitFor(
        async () => {
          for (const client of clients) {
            const peers = (await client.call('SENTINEL', 'SENTINELS', this.name)) as unknown[];
            const replicas = (await client.call('SENTINEL', 'REPLICAS', this.name)) as unknown[];
            if (peers.length < 2 || replicas.length < 1) return false;
          }
          return true;
        },
        'the sentinels to find each other and the replica',
        20_000,
      );
    } finally {
      for (const client of clients) client.disconnect();
    }
  }
}

async function killProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}
