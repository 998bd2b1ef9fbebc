import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { redisAnswers } from './redis-tools.js';

/** The path of `name` if it is an executable in a directory of PATH. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}

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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A redis-server of the demo's own, on a free port, with nothing saved to disk. */
export class PrivateRedis {
  private exited: Promise<void>;

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
  ) {
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  static async start(executable: string): Promise<PrivateRedis> {
    // A free port can be taken between the check and the bind: try a few.
    for (let attempt = 1; ; attempt++) {
      const port = await freePort();
      const child = spawn(
        executable,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        // Its own process group: a Ctrl-C in the terminal reaches the demo, which stops it last.
        { stdio: 'ignore', detached: true },
      );
      const redis = new PrivateRedis(child, port);
      if (await redis.answers()) return redis;
      await redis.stop();
      if (attempt === 3) throw new Error(`redis-server did not start (tried ports up to ${port})`);
    }
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  private async answers(): Promise<boolean> {
    for (let i = 0; i < 100 && this.running; i++) {
      if (await redisAnswers(this.url, 500)) return true;
      await sleep(50);
    }
    return false;
  }

  /** SIGTERM, and SIGKILL if it has not gone within 3 s; resolves once it has exited. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.killNow(), 3000);
    await this.exited;
    clearTimeout(timer);
  }

  /** Synchronous, for process 'exit'. */
  killNow(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
