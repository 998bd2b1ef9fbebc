import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { RedisServer } from './redis-server.js';
import { waitFor } from './wait.js';

const run = promisify(execFile);

/**
 * Three masters, no replicas, on free ports; their node files in a temp dir. A node that stops
 * answering is failed after 2 s (the default is 15 s).
 */
export class RedisCluster {
  readonly servers: RedisServer[] = [];

  private constructor(private readonly dir: string) {}

  static async start(masters = 3): Promise<RedisCluster> {
    const cluster = new RedisCluster(mkdtempSync(join(tmpdir(), 'kettle-cluster-')));
    try {
      await cluster.startAll(masters);
    } catch (error) {
      await cluster.stop(); // never leave a server nobody holds
      throw error;
    }
    return cluster;
  }

  /** Startup nodes for an ioredis Cluster client. */
  get nodes(): Array<{ host: string; port: number }> {
    return this.servers.map((server) => ({ host: '127.0.0.1', port: server.port }));
  }

  /** The port of the master that owns the slot of `key`, from that node's own slot table. */
  async ownerOf(key: string): Promise<number> {
    const { admin } = this.servers[0];
    const slot = Number(await admin.call('CLUSTER', 'KEYSLOT', key));
    const ranges = (await admin.call('CLUSTER', 'SLOTS')) as Array<
      [number, number, [string, number]]
    >;
    const range = ranges.find(([from, to]) => from <= slot && slot <= to);
    if (!range) throw new Error(`no node owns slot ${slot}`);
    return Number(range[2][1]);
  }

  async stop(): Promise<void> {
    for (const server of this.servers.splice(0)) await server.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }

  private async startAll(masters: number): Promise<void> {
    for (let i = 0; i < masters; i++) {
      const server = await RedisServer.start({
        args: [
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(this.dir, `nodes-${i}.conf`),
          '--cluster-node-timeout',
          '2000',
          '--dir',
          this.dir,
        ],
      });
      this.servers.push(server);
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...this.servers.map((server) => `127.0.0.1:${server.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await this.waitUntilOk();
  }

  /** Until every running node says cluster_state:ok (after a create, or a node back from a kill). */
  async waitUntilOk(): Promise<void> {
    const clients = this.servers.map((server) => new Redis({ port: server.port }));
    for (const client of clients) client.on('error', () => undefined);
    try {
      await waitFor(
        async () => {
          const infos = await Promise.all(
            clients.map((c) => c.call('CLUSTER', 'INFO').catch(() => '')),
          );
          return infos.every((info) => String(info).includes('cluster_state:ok'));
        },
        'cluster_state:ok on every node',
        20_000,
      );
    } finally {
      for (const client of clients) client.disconnect();
    }
  }
}
