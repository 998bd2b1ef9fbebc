import { fileURLToPath } from 'node:url';
import { type Child, children } from '#tools/children.js';
import { readEventLines } from '#tools/event-lines.js';
import type { NodeEvent } from '../node-events.js';
import type { Cluster, ClusterListener, NodeSettings } from './cluster.js';

const NODE_PROGRAM = fileURLToPath(new URL('./node.js', import.meta.url));
/** How long a node may take to shut down on SIGTERM before it is killed. */
const STOP_GRACE_MS = 5000;
const STDERR_LINES_KEPT = 20;

/** Each node is a process of its own: the sample app, as one would deploy it (demo/node.ts). */
export class ProcessCluster implements Cluster {
  readonly description =
    'each node is a process of its own: the sample app, sample/dist/demo/node.js';
  readonly pids: number[] = [];
  private readonly nodes = new Map<string, Child>();

  constructor(
    private readonly settings: NodeSettings,
    private readonly listener: ClusterListener,
  ) {}

  async add(nodeId: string): Promise<void> {
    const { intervalMs, leaseMs, cron, keyPrefix, redisUrl, elections } = this.settings;
    const child = children.spawn(process.execPath, [NODE_PROGRAM], {
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
        BALANCED_ELECTIONS: String(elections),
        NO_COLOR: '1',
      },
      // The IPC channel closes when the demo ends, however it ends: the node then stops (node.ts).
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // A group of its own: a Ctrl-C in the terminal reaches only the demo, which stops the nodes in order.
      detached: true,
    });
    if (child.pid < 0) throw new Error(`could not start node ${nodeId}`);
    const stderr: string[] = [];
    void child.exited.then(({ code, signal }) => {
      this.nodes.delete(nodeId);
      this.listener.exited(nodeId, signal ?? `code ${code}`, stderr);
    });
    this.pids.push(child.pid);
    this.nodes.set(nodeId, child);
    this.listener.started(nodeId, child.pid);
    readEventLines<NodeEvent>(child.process.stdout!, (event) => this.listener.event(event));
    child.lines('stderr', (line) => {
      stderr.push(line);
      if (stderr.length > STDERR_LINES_KEPT) stderr.shift();
    });
  }

  kill(nodeId: string): void {
    this.nodes.get(nodeId)?.signal('SIGKILL');
  }

  stop(nodeId: string): void {
    this.nodes.get(nodeId)?.resume();
    this.nodes.get(nodeId)?.signal('SIGTERM');
  }

  pause(nodeId: string): void {
    this.nodes.get(nodeId)?.pause();
  }

  resume(nodeId: string): void {
    this.nodes.get(nodeId)?.resume();
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((child) => child.stop(STOP_GRACE_MS)));
  }
}
