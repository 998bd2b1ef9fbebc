import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';
import { type Child, children } from './children.js';
import { freePort } from './free-port.js';
import { sleep } from './wait.js';

/** PEM files for a redis-server that speaks TLS only: `ca` is the file clients trust. */
export interface TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca: string;
}

export interface RedisServerOptions {
  /** A free one by default (another is tried should it be taken before the server binds it). */
  port?: number;
  /** Extra redis-server arguments, e.g. ['--requirepass', 'pw'] or ['--sentinel']. */
  args?: string[];
  /** With these, the server listens with TLS on `port` and has no plain port. */
  tls?: TlsFiles;
  /** A config file for it to read first, and to rewrite (a sentinel's). */
  config?: string;
  /** The executable: `redis-server` on PATH by default. */
  command?: string;
  /** A process group of its own, so that a Ctrl-C in a terminal does not reach it. */
  detached?: boolean;
}

/** Tries at most, when the free port is taken before the server binds it. */
const PORT_ATTEMPTS = 3;

/**
 * A private redis-server on loopback with nothing saved to disk, in a working directory of its
 * own: started, frozen, killed and started again on the same port by tests, the bench and the
 * demo. Its process belongs to `children`.
 */
export class RedisServer {
  private child?: Child;
  /** Its working directory: a replica's full sync writes dump.rdb there. */
  private dir?: string;
  private adminClient?: Redis;

  private constructor(
    readonly port: number,
    private readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    for (let attempt = 1; ; attempt++) {
      const server = new RedisServer(options.port ?? (await freePort()), options);
      try {
        await server.start();
        return server;
      } catch (error) {
        if (options.port !== undefined || attempt === PORT_ATTEMPTS) throw error;
      }
    }
  }

  get url(): string {
    return `${this.options.tls ? 'rediss' : 'redis'}://127.0.0.1:${this.port}`;
  }

  /** ioredis options that reach this server (trusting its CA when it speaks TLS). */
  get redisOptions(): RedisOptions {
    const options: RedisOptions = { host: '127.0.0.1', port: this.port };
    if (this.options.tls) options.tls = { ca: readFileSync(this.options.tls.ca, 'utf8') };
    return options;
  }

  /** The process id of the running server; undefined when it is not running. */
  get pid(): number | undefined {
    return this.child?.alive ? this.child.pid : undefined;
  }

  /**
   * A connection of the caller's (INFO, FLUSHALL, REPLICAOF), opened on first use and closed when
   * the server is killed; commands fail at once while the server is down.
   */
  get admin(): Redis {
    if (!this.adminClient) {
      this.adminClient = new Redis({ ...this.redisOptions, maxRetriesPerRequest: 0 });
      this.adminClient.on('error', () => undefined);
    }
    return this.adminClient;
  }

  /**
   * Calls of `command` (lower case: `evalsha`, `set`) this server has run since it started, those
   * of Lua scripts included (INFO commandstats).
   */
  async commandCalls(command: string): Promise<number> {
    const stats = await this.admin.info('commandstats');
    return Number(new RegExp(`^cmdstat_${command}:calls=(\\d+)`, 'm').exec(stats)?.[1] ?? 0);
  }

  /** Starts it (again), empty, as a crashed Redis without AOF comes back. */
  async start(): Promise<void> {
    this.dir = mkdtempSync(join(tmpdir(), `kettle-redis-${this.port}-`));
    // Written once the server listens: a PING answered by another process already on the port
    // must not pass for this one's.
    const pidFile = join(this.dir, 'redis.pid');
    const { config, command = 'redis-server', args = [], detached = false } = this.options;
    const child = children.spawn(
      command,
      [
        ...(config ? [config] : []),
        ...this.listen(),
        '--dir',
        this.dir,
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--pidfile',
        pidFile,
        '--protected-mode',
        'no',
        ...args,
      ],
      { stdio: 'ignore', detached },
    );
    this.child = child;
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
      if (!child.alive) {
        const { code, signal } = await child.exited;
        this.removeDir();
        throw new Error(`redis-server on port ${this.port} exited (${code ?? signal})`);
      }
      try {
        await probe.connect();
        // NOAUTH still proves the server is up.
        await probe.ping().catch((error: Error) => {
          if (!/NOAUTH|WRONGPASS/.test(error.message)) throw error;
        });
        probe.disconnect();
        if (existsSync(pidFile)) return;
        await sleep(25);
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
    if (!this.options.tls) return ['--port', port];
    const { cert, key, ca } = this.options.tls;
    const tls = ['--tls-port', port, '--tls-cert-file', cert, '--tls-key-file', key];
    return ['--port', '0', ...tls, '--tls-ca-cert-file', ca, '--tls-auth-clients', 'no'];
  }

  /** SIGKILL: gone at once, nothing saved; resolves once it has exited. */
  async kill(): Promise<void> {
    this.adminClient?.disconnect();
    this.adminClient = undefined;
    await this.child?.kill();
    this.child = undefined;
    this.removeDir();
  }

  /** SIGSTOP: connections stay open and nothing answers, as a hung Redis. */
  pause(): void {
    this.child?.pause();
  }

  resume(): void {
    this.child?.resume();
  }

  /** REPLICAOF `primary`, or REPLICAOF NO ONE without one (a promotion); returns once it is answered. */
  async replicaOf(primary?: RedisServer): Promise<void> {
    await (primary
      ? this.admin.replicaof('127.0.0.1', primary.port)
      : this.admin.replicaof('NO', 'ONE'));
  }

  /**
   * Resolves once this replica's link to its primary is up and its first sync done. For a quick
   * sync, start the primary with ['--repl-diskless-sync-delay', '0'].
   */
  async synced(): Promise<void> {
    for (let attempt = 0; attempt < 1000; attempt++) {
      const info = await this.admin.info('replication');
      if (/master_link_status:up/.test(info) && !/master_sync_in_progress:1/.test(info)) return;
      await sleep(10);
    }
    throw new Error(`redis-server on port ${this.port} did not sync from its primary`);
  }

  private removeDir(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
