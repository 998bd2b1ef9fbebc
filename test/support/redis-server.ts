import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
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

/** A private redis-server on a free port, for tests that kill, pause or restart Redis. */
export class RedisServer {
  private process?: ChildProcess;

  private constructor(
    readonly port: number,
    private readonly args: readonly string[],
  ) {}

  /** `args` are extra redis-server arguments, e.g. ['--requirepass', 'pw']. */
  static async start(options: { port?: number; args?: string[] } = {}): Promise<RedisServer> {
    const server = new RedisServer(options.port ?? (await freePort()), options.args ?? []);
    await server.start();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts it (again), empty: no persistence, as a crashed Redis without AOF comes back. */
  async start(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--protected-mode',
        'no',
      ],
      { stdio: 'ignore' },
    );
    this.process = child;
    const probe = new Redis(this.port, '127.0.0.1', {
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
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
    throw new Error(`redis-server on port ${this.port} did not answer`);
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
  }

  /** SIGSTOP: connections stay open and nothing answers, as a hung Redis. */
  pause(): void {
    this.process?.kill('SIGSTOP');
  }

  resume(): void {
    this.process?.kill('SIGCONT');
  }
}
