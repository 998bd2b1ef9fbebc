import type { WriteStream } from 'node:fs';
import { type Child, children } from '#tools/children.js';
import { readEventLines } from '#tools/event-lines.js';
import type { NodeMessage, NodeStats } from '../nodes/protocol.js';

export interface NodeSpec {
  /** The node program's path. */
  script: string;
  nodeId: string;
  redisUrl: string;
  env: Record<string, string>;
  log: WriteStream;
  onMessage: (message: NodeMessage) => void;
}

/**
 * One node: a separate Node.js process running a peer's Nest app. It starts parked (modules
 * loaded, nothing connected) and boots its app on start().
 */
export class NodeProcess {
  readonly parked: Promise<void>;
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;
  private readonly child: Child;
  private statsWaiters: Array<(stats: NodeStats) => void> = [];
  /** When its app said it was up (the node's `ready` stamp); unset before. */
  readyAt?: number;

  constructor(readonly spec: NodeSpec) {
    this.child = children.spawn(process.execPath, [spec.script], {
      env: {
        ...process.env,
        ...spec.env,
        NODE_ID: spec.nodeId,
        REDIS_URL: spec.redisUrl,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.exited = this.child.exited.then(() => undefined);
    const exit = (before: string) =>
      this.child.exited.then(({ code, signal }) => {
        throw new Error(`node ${spec.nodeId} exited ${before} (${code ?? signal})`);
      });
    let onParked!: () => void;
    this.parked = Promise.race([
      new Promise<void>((resolve) => (onParked = resolve)),
      exit('while loading'),
    ]);
    this.parked.catch(() => undefined);
    let onReady!: () => void;
    this.ready = Promise.race([
      new Promise<void>((resolve) => (onReady = resolve)),
      exit('before it was ready'),
    ]);
    this.ready.catch(() => undefined);
    readEventLines<NodeMessage>(
      this.child.process.stdout!,
      (message) => {
        if (message.ev === 'parked') onParked();
        if (message.ev === 'ready') {
          this.readyAt = message.t;
          onReady();
        }
        if (message.ev === 'stats')
          for (const waiter of this.statsWaiters.splice(0)) waiter(message);
        if (message.ev === 'error') spec.log.write(`${spec.nodeId} ! ${message.message}\n`);
        spec.onMessage(message);
      },
      (line) => spec.log.write(`${spec.nodeId} | ${line}\n`),
    );
    this.child.lines('stderr', (line) => spec.log.write(`${spec.nodeId} ! ${line}\n`));
    // A node that dies closes its stdin under the driver's feet: not an error.
    this.child.process.stdin!.on('error', () => undefined);
  }

  get id(): string {
    return this.spec.nodeId;
  }

  get pid(): number {
    return this.child.pid;
  }

  get alive(): boolean {
    return this.child.alive;
  }

  /** Boots the node's app; resolves when it is up, fails (and kills it) if it is not within `ms`. */
  async start(ms = 60_000): Promise<void> {
    this.child.process.stdin!.write('start\n');
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.signal('SIGKILL');
        reject(new Error(`node ${this.id} was not up within ${ms / 1000} s`));
      }, ms);
    });
    try {
      await Promise.race([this.ready, limit]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** The node's counters now; undefined if it does not answer within `ms`. */
  stats(ms = 5000): Promise<NodeStats | undefined> {
    if (!this.alive) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(undefined), ms);
      this.statsWaiters.push((stats) => {
        clearTimeout(timer);
        resolve(stats);
      });
      this.child.process.stdin!.write('stats\n');
    });
  }

  signal(signal: 'SIGKILL' | 'SIGTERM'): void {
    this.child.signal(signal);
  }

  /** SIGSTOP: frozen, its connections left open, until `resume`. */
  pause(): void {
    this.child.pause();
  }

  resume(): void {
    this.child.resume();
  }

  /** SIGTERM, then SIGKILL if the node has not shut down within `ms`. */
  async stop(ms = 5000): Promise<void> {
    await this.child.stop(ms);
  }
}
