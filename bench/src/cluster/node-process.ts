import { type ChildProcess, spawn } from 'node:child_process';
import type { WriteStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { track } from '../infra/children.js';
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
  private readonly child: ChildProcess;
  private statsWaiters: Array<(stats: NodeStats) => void> = [];

  constructor(readonly spec: NodeSpec) {
    this.child = track(
      spawn(process.execPath, [spec.script], {
        env: {
          ...process.env,
          ...spec.env,
          NODE_ID: spec.nodeId,
          REDIS_URL: spec.redisUrl,
        },
        stdio: ['pipe', 'pipe', 'pipe'],
      }),
    );
    this.exited = new Promise((resolve) => this.child.once('exit', () => resolve()));
    let onParked!: () => void;
    this.parked = new Promise((resolve, reject) => {
      onParked = resolve;
      this.child.once('exit', (code, signal) =>
        reject(new Error(`node ${spec.nodeId} exited while loading (${code ?? signal})`)),
      );
    });
    this.parked.catch(() => undefined);
    this.ready = new Promise((resolve, reject) => {
      this.child.once('exit', (code, signal) =>
        reject(new Error(`node ${spec.nodeId} exited before it was ready (${code ?? signal})`)),
      );
      createInterface({ input: this.child.stdout! }).on('line', (line) => {
        const message = parse(line);
        if (!message) return void spec.log.write(`${spec.nodeId} | ${line}\n`);
        if (message.k === 'parked') onParked();
        if (message.k === 'ready') resolve();
        if (message.k === 'stats')
          for (const waiter of this.statsWaiters.splice(0)) waiter(message);
        if (message.k === 'error') spec.log.write(`${spec.nodeId} ! ${message.message}\n`);
        spec.onMessage(message);
      });
    });
    this.ready.catch(() => undefined);
    createInterface({ input: this.child.stderr! }).on('line', (line) =>
      spec.log.write(`${spec.nodeId} ! ${line}\n`),
    );
    // A node that dies closes its stdin under the driver's feet: not an error.
    this.child.stdin!.on('error', () => undefined);
  }

  get id(): string {
    return this.spec.nodeId;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Boots the node's app; resolves when it is up, fails (and kills it) if it is not within `ms`. */
  async start(ms = 60_000): Promise<void> {
    this.child.stdin!.write('start\n');
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
      this.child.stdin!.write('stats\n');
    });
  }

  signal(signal: 'SIGKILL' | 'SIGTERM'): void {
    if (this.alive) this.child.kill(signal);
  }

  /** SIGTERM, then SIGKILL if the node has not shut down within `ms`. */
  async stop(ms = 5000): Promise<void> {
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), ms);
    await this.exited;
    clearTimeout(timer);
  }
}

function parse(line: string): NodeMessage | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const message = JSON.parse(line) as NodeMessage;
    return typeof message.k === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}
