import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { sleep } from '../clock.js';
import { track } from './children.js';

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

/** The bench's own redis-server: loopback only, no persistence, on a free port. */
export class RedisServer {
  private constructor(
    readonly port: number,
    private readonly child: ChildProcess,
    /** The driver's own connection, for INFO and FLUSHALL between scenarios. */
    readonly admin: Redis,
  ) {}

  static async start(): Promise<RedisServer> {
    const port = await freePort();
    const child = track(
      spawn(
        'redis-server',
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: 'ignore' },
      ),
    );
    const admin = new Redis(port, '127.0.0.1', { lazyConnect: true, retryStrategy: () => null });
    admin.on('error', () => undefined);
    for (let attempt = 0; attempt < 200; attempt++) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode}`);
      try {
        await admin.connect();
        await admin.ping();
        return new RedisServer(port, child, admin);
      } catch {
        admin.disconnect();
        await sleep(25);
      }
    }
    throw new Error(`redis-server on port ${port} did not answer`);
  }

  async version(): Promise<string> {
    const info = await this.admin.info('server');
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  }

  /** Empty, with fresh counters: each peer and scale step starts from the same state. */
  async reset(): Promise<void> {
    await this.admin.flushall();
    await this.admin.config('RESETSTAT');
  }

  async stop(): Promise<void> {
    this.admin.disconnect();
    if (this.child.exitCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGKILL');
      await exited;
    }
  }
}
