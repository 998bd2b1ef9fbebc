import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { NodeEvent } from '../node-events.js';
import type { Cluster, ClusterListener, NodeSettings } from './cluster.js';

const SAMPLE_MAIN = fileURLToPath(new URL('../main.js', import.meta.url));
const EXIT_WITH_PARENT = new URL('./exit-with-parent.js', import.meta.url).href;
/** How long a node may take to shut down on SIGTERM before it is killed. */
const STOP_GRACE_MS = 5000;
const STDERR_LINES_KEPT = 20;

interface Child {
  readonly process: ChildProcess;
  /** Resolves once the process has exited and all it printed has been read. */
  readonly closed: Promise<void>;
}

/** Each node is a process of its own: `node sample/dist/main.js`, as one would deploy it. */
export class ProcessCluster implements Cluster {
  readonly description = 'each node is a process of its own: node sample/dist/main.js';
  readonly pids: number[] = [];
  private readonly children = new Map<string, Child>();

  constructor(
    private readonly settings: NodeSettings,
    private readonly listener: ClusterListener,
  ) {}

  async add(nodeId: string): Promise<void> {
    const { intervalMs, leaseMs, cron, keyPrefix, redisUrl } = this.settings;
    const child = spawn(process.execPath, ['--import', EXIT_WITH_PARENT, SAMPLE_MAIN], {
      // The sample reads its settings from the environment (ConfigModule), as a deployed app would.
      env: {
        ...process.env,
        NODE_ID: nodeId,
        PORT: '0',
        REDIS_URL: redisUrl,
        KETTLE_STORE: 'redis',
        KETTLE_KEY_PREFIX: keyPrefix,
        KETTLE_INTERVAL_MS: String(intervalMs),
        KETTLE_LEASE_TTL_MS: String(leaseMs),
        REPORT_CRON: cron ?? '',
        JSON_EVENTS: '1',
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // A group of its own: a Ctrl-C in the terminal reaches only the demo, which stops the nodes in order.
      detached: true,
    });
    const stderr: string[] = [];
    const closed = new Promise<void>((resolve) =>
      child.once('close', (code, signal) => {
        this.children.delete(nodeId);
        this.listener.exited(nodeId, signal ?? `code ${code}`, stderr);
        resolve();
      }),
    );
    child.once('error', (error) => stderr.push(error.message));
    if (child.pid === undefined) throw new Error(`could not start node ${nodeId}`);
    this.pids.push(child.pid);
    this.children.set(nodeId, { process: child, closed });
    this.listener.started(nodeId, child.pid);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const event = parseEvent(line);
      if (event) this.listener.event(event);
    });
    createInterface({ input: child.stderr! }).on('line', (line) => {
      stderr.push(line);
      if (stderr.length > STDERR_LINES_KEPT) stderr.shift();
    });
  }

  kill(nodeId: string): void {
    this.signal(nodeId, 'SIGKILL');
  }

  stop(nodeId: string): void {
    this.signal(nodeId, 'SIGCONT');
    this.signal(nodeId, 'SIGTERM');
  }

  pause(nodeId: string): void {
    this.signal(nodeId, 'SIGSTOP');
  }

  resume(nodeId: string): void {
    this.signal(nodeId, 'SIGCONT');
  }

  async shutdown(): Promise<void> {
    await Promise.all(
      [...this.children.keys()].map(async (nodeId) => {
        const { closed } = this.children.get(nodeId)!;
        this.stop(nodeId);
        const timer = setTimeout(() => this.killGroup(nodeId), STOP_GRACE_MS);
        await closed;
        clearTimeout(timer);
      }),
    );
  }

  killNow(): void {
    for (const nodeId of this.children.keys()) this.killGroup(nodeId);
  }

  private signal(nodeId: string, signal: NodeJS.Signals): void {
    this.children.get(nodeId)?.process.kill(signal);
  }

  private killGroup(nodeId: string): void {
    const pid = this.children.get(nodeId)?.process.pid;
    try {
      if (pid !== undefined) process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** A NodeEvent from one line of a node's stdout; the node's own log lines are not JSON and are skipped. */
function parseEvent(line: string): NodeEvent | undefined {
  if (!line.startsWith('{')) return undefined;
  try {
    const event = JSON.parse(line) as NodeEvent;
    return typeof event.type === 'string' && typeof event.nodeId === 'string' ? event : undefined;
  } catch {
    return undefined;
  }
}
