import type { Cluster } from './cluster.js';
import type { ClusterState, NodeView } from './cluster-state.js';
import { seconds } from './format.js';

/** Node ids: a, b, … z, then a2, b2, … */
const nodeName = (index: number): string =>
  String.fromCharCode(97 + (index % 26)) + (index >= 26 ? String(Math.floor(index / 26) + 1) : '');

/** What the keys (and the scripted scenario) do to the cluster; each says what it did. */
export class Actions {
  private added = 0;
  private readonly resumeTimers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly cluster: Cluster,
    private readonly state: ClusterState,
    private readonly pauseMs: number,
  ) {}

  async addNode(): Promise<string> {
    const nodeId = nodeName(this.added++);
    await this.cluster.add(nodeId);
    return nodeId;
  }

  /** SIGKILL: the lease stays in Redis until it expires; the others wait for that. */
  killMaster(): string | undefined {
    const master = this.master('kill');
    if (!master) return undefined;
    this.state.noteAction('kill', master.id);
    this.cluster.kill(master.id);
    return master.id;
  }

  /** SIGTERM: the node releases its lease on the way out; another takes over at once. */
  stopMaster(): string | undefined {
    const master = this.master('stop');
    if (!master) return undefined;
    this.state.noteAction('stop', master.id);
    this.cluster.stop(master.id);
    return master.id;
  }

  /** SIGSTOP for longer than the lease, then SIGCONT: the node must find it is no longer master. */
  pauseMaster(): string | undefined {
    const master = this.master('pause');
    if (!master) return undefined;
    this.state.noteAction('pause', master.id);
    this.cluster.pause(master.id);
    this.state.say(`${master.id} stays frozen for ${seconds(this.pauseMs)}, longer than its lease`);
    this.resumeTimers.set(
      master.id,
      setTimeout(() => this.resume(master.id), this.pauseMs),
    );
    return master.id;
  }

  /** Lets every paused node go at once, before the demo stops them. */
  resumeAll(): void {
    for (const nodeId of this.resumeTimers.keys()) this.resume(nodeId);
  }

  private resume(nodeId: string): void {
    clearTimeout(this.resumeTimers.get(nodeId));
    this.resumeTimers.delete(nodeId);
    // Killed or stopped while frozen: nothing left to resume.
    if (this.state.nodes.get(nodeId)?.status !== 'paused') return;
    this.cluster.resume(nodeId);
    this.state.noteResume(nodeId);
  }

  private master(what: 'kill' | 'stop' | 'pause'): NodeView | undefined {
    const master = this.state.master();
    if (!master) this.state.say(`no master to ${what} right now (a hand-over is under way)`);
    else if (what === 'pause' && master.status === 'paused')
      this.state.say(`${master.id} is paused already`);
    else return master;
    return undefined;
  }
}
