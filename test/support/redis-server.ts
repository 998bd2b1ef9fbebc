import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { sleep } from './wait.js';

/** The Redis that every session and CI start on the default port. */
export const SHARED_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** PEM files for a redis-server that speaks TLS only: `ca` is the file clients trust. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

/** A private redis-server on a free port, for tests that kill, pause or restart Redis. */
export class RedisServer {
  private process?: ChildProcess;
  /** Its working directory, of its own: a replica's full sync writes dump.rdb there. */
  private dir?: string;

  private constructor(
    readonly port: number,
    private readonly args: readonly string[],
    private readonly tls?: TlsFiles,
  ) {}

  /**
   * `args` are extra redis-server arguments, e.g. ['--requirepass', 'pw']. With `tls`, the server
   * listens with TLS on `port` and has no plain port.
   */
  static async start(
    options: { port?: number; args?: string[]; tls?: TlsFiles } = {},
  ): Promise<RedisServer> {
    const port = options.port ?? (await freePort());
    const server = new RedisServer(port, options.args ?? [], options.tls);
    await server.start();
    return server;
  }

  get url(): string {
    return `${this.tls ? 'rediss' : 'redis'}://127.0.0.1:${this.port}`;
  }

  /** ioredis options that reach this server (trusting its CA when it speaks TLS). */
  get redisOptions(): RedisOptions {
    const options: RedisOptions = { host: '127.0.0.1', port: this.port };
    if (this.tls) options.tls = { ca: readFileSync(this.tls.ca, 'utf8') };
    return options;
  }

  /** Starts it (again), empty: no persistence, as a crashed Redis without AOF comes back. */
  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), `kettle-redis-${this.port}-`));
    const child = spawn(
      'redis-server',
      [
        ...this.listen(),
        '--dir',
        this.dir,
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
        ...this.args,
      ],
      { stdio: 'ignore' },
    );
    this.process = child;
    const probe = new Redis({
      ...this.redisOptions,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      // Its INFO would fail with NOAUTH on a password-protected server.
      enableReadyCheck: false,
    });
    probe.on('error', () => undefined);
    for (let attempt = 0; attempt < 200; attempt++) {
      if (child.exitCode !== null)
        throw new Error(`redis-server on port ${this.port} exited with ${child.exitCode}`);
      try {
        await probe.connect();
        // NOAUTH still proves the server is up.
        await probe.ping().catch((error: Error) => {
          if (!/NOAUTH|WRONGPASS/.test(error.message)) throw error;
        });
        probe.disconnect();
        return;
      } catch {
        probe.disconnect();
        await sleep(25);
      }
    }
    await this.kill(); // never leave a server nobody holds
    throw new Error(`redis-server on port ${this.port} did not answer`);
  }

  private listen(): string[] {
    const port = String(this.port);
    if (!this.tls) return ['--port', port];
    const { cert, key, ca } = this.tls;
    const tls = ['--tls-port', port, '--tls-cert-file', cert, '--tls-key-file', key];
    return ['--port', '0', ...tls, '--tls-ca-cert-file', ca, '--tls-auth-clients', 'no'];
  }

  /** SIGKILL: gone at once, nothing saved. */
  async kill(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGCONT');
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGKILL');
    await exited;
    this.process = undefined;
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }

  /** REPLICAOF `primary`, or REPLICAOF NO ONE without one (a promotion); returns once it is answered. */
  async replicaOf(primary?: RedisServer): Promise<void> {
    await this.admin((admin) =>
      primary ? admin.replicaof('127.0.0.1', primary.port) : admin.replicaof('NO', 'ONE'),
    );
  }

  /**
   * Resolves once this replica's link to its primary is up and its first sync done. For a quick
   * sync, start the primary with ['--repl-diskless-sync-delay', '0'].
   */
  async synced(): Promise<void> {
    await this.admin(async (admin) => {
      for (let attempt = 0; attempt < 1000; attempt++) {
        const info = await admin.info('replication');
        if (/master_link_status:up/.test(info) && !/master_sync_in_progress:1/.test(info)) return;
        await sleep(10);
      }
      throw new Error(`redis-server on port ${this.port} did not sync from its primary`);
    });
  }

  private async admin<T>(use: (admin: Redis) => Promise<T>): Promise<T> {
    const admin = new Redis({ ...this.redisOptions, maxRetriesPerRequest: 0 });
    try {
      return await use(admin);
    } finally {
      admin.disconnect();
    }
  }

  /** SIGSTOP: connections stay open and nothing answers, as a hung Redis. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }
}
