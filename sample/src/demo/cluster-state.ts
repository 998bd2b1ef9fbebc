import { EventEmitter } from 'node:events';
import { waitFor } from '#tools/wait.js';
import type { NodeEvent } from '../node-events.js';
import type { ClusterListener } from './cluster.js';
import { seconds, spreadText } from './format.js';

export type NodeStatus =
  'starting' | 'up' | 'paused' | 'stopping' | 'stopped' | 'killed' | 'exited';

export interface NodeView {
  readonly id: string;
  pid: number;
  port?: number;
  status: NodeStatus;
  isMaster: boolean;
  /** The term of its current or last leadership. */
  term?: number;
  runs: number;
  lastRunAt?: number;
  /** Who this node's GET /kettle said is master, last time it was asked ('no answer' if it did not). */
  seesMaster?: string;
  answeredHttp: boolean;
  /** How it ended: `SIGKILL`, `code 0`. */
  exit?: string;
  /** The balanced elections it leads, as it last reported (--elections). */
  leading?: string[];
}

/** One run of the master's job, as the node that ran it reported it. */
export interface RunRecord {
  readonly nodeId: string;
  readonly term: number;
  /** The slot it ran for (its scheduledAt, ms). */
  readonly slot: number;
  readonly at: number;
}

/** One term of leadership, from the node's own reports. */
export interface Leadership {
  readonly nodeId: string;
  readonly term: number;
  readonly at: number;
  endedAt?: number;
  reason?: string;
}

/** Something the demo did to a master. */
export interface Action {
  readonly kind: 'kill' | 'stop' | 'pause';
  readonly nodeId: string;
  readonly term: number;
  readonly at: number;
  resumedAt?: number;
  /** For a pause: when and why the paused node said it was no longer master. */
  steppedDown?: { at: number; reason: string };
}

/** The balanced elections (--elections) each node that was up led, once that had settled. */
export interface Spread {
  /** When it had held for the settle time. */
  readonly at: number;
  /** How many each node that was up led, by node id. */
  readonly leading: Record<string, number>;
  /** What balance aims each at: ⌈elections / nodes up⌉. */
  readonly share: number;
  /** How many were handed over by balancing since the spread before. */
  readonly rebalanced: number;
}

/** What the demo follows of the balanced elections, with --elections. */
export interface BalanceTracking {
  readonly elections: readonly string[];
  /** How long a spread must hold before it is recorded: longer than balancing takes to act. */
  readonly settleMs: number;
}

export interface HandOver {
  readonly from: string;
  readonly to: string;
  readonly fromTerm: number;
  readonly toTerm: number;
  readonly at: number;
  /** What made the old master go: the demo's action, or the reason it gave. */
  readonly cause?: string;
  /** From that action (or the step-down) to the new master's election. */
  readonly tookMs?: number;
}

/** Array.prototype.findLast, which the ES2022 lib this project compiles against lacks. */
function lastOf<T>(items: readonly T[], test: (item: T) => boolean): T | undefined {
  for (let i = items.length - 1; i >= 0; i--) if (test(items[i])) return items[i];
  return undefined;
}

const ACTION_TEXT = {
  kill: 'killed (SIGKILL)',
  stop: 'stopped (SIGTERM)',
  pause: 'paused (SIGSTOP)',
};

/**
 * The demo's picture of the cluster, built from what the nodes report (NodeEvent) and what the
 * demo did to them. Emits 'message' (text, kind) with each piece of news for the view and the log.
 */
export class ClusterState extends EventEmitter implements ClusterListener {
  readonly nodes = new Map<string, NodeView>();
  readonly runs: RunRecord[] = [];
  readonly leaderships: Leadership[] = [];
  readonly actions: Action[] = [];
  readonly handOvers: HandOver[] = [];
  /** The spreads of the balanced elections, each time it settled. */
  readonly spreads: Spread[] = [];
  /** Balanced elections handed over by balancing (reason 'rebalanced'), as the nodes reported. */
  rebalanced = 0;
  /** Set by the demo before it stops everything: exits are then expected. */
  quitting = false;
  /** Why a scripted run must stop now: a node ended without being asked to, or a signal came. */
  failure?: string;
  private settleTimer?: NodeJS.Timeout;

  constructor(readonly balance?: BalanceTracking) {
    super();
  }

  started(nodeId: string, pid: number): void {
    this.nodes.set(nodeId, {
      id: nodeId,
      pid,
      status: 'starting',
      isMaster: false,
      runs: 0,
      answeredHttp: false,
    });
    this.say(`started node ${nodeId}${pid === process.pid ? '' : ` (pid ${pid})`}`);
  }

  event(event: NodeEvent): void {
    const node = this.nodes.get(event.node);
    // A killed node is dead to the demo, even while an in-process one winds down.
    if (!node || node.status === 'killed') return;
    if (event.ev === 'ready') {
      node.port = event.port;
      if (node.status === 'starting') node.status = 'up';
      this.say(`${node.id} is up: GET http://127.0.0.1:${event.port}/kettle`);
      this.spreadMayChange();
    } else if (event.ev === 'leading') {
      node.leading = event.elections;
      if (event.reason === 'rebalanced') this.rebalanced++;
      this.spreadMayChange();
    } else if (event.ev === 'run') {
      this.runs.push({ nodeId: node.id, term: event.term, slot: event.slot, at: event.t });
      node.runs++;
      node.lastRunAt = event.t;
      const slot = new Date(event.slot).toISOString().slice(11, 19);
      this.say(`${node.id} ran the job (term ${event.term}, slot ${slot} UTC)`, 'run');
    } else if (event.isMaster) {
      node.isMaster = true;
      node.term = event.term;
      this.elected({ nodeId: node.id, term: event.term, at: event.t });
    } else {
      node.isMaster = false;
      this.steppedDown(node.id, event.term, event.t, event.reason ?? 'unknown');
    }
  }

  exited(nodeId: string, how: string, output: string[]): void {
    const node = this.nodes.get(nodeId);
    if (!node) return;
    node.exit = how;
    node.isMaster = false;
    this.spreadMayChange();
    if (node.status === 'killed') return;
    if (node.status === 'stopping' || this.quitting) {
      node.status = 'stopped';
      return this.say(`${nodeId} has exited (${how})`);
    }
    node.status = 'exited';
    this.failure = [`node ${nodeId} exited by itself (${how})`, ...output.slice(-10)].join('\n  ');
    this.say(this.failure);
  }

  /** Records what the demo did to the master `nodeId`, so that the hand-over can name its cause. */
  noteAction(kind: Action['kind'], nodeId: string): void {
    const node = this.nodes.get(nodeId)!;
    this.actions.push({ kind, nodeId, term: node.term ?? 0, at: Date.now() });
    node.status = kind === 'kill' ? 'killed' : kind === 'stop' ? 'stopping' : 'paused';
    if (kind === 'kill') node.isMaster = false;
    this.say(`${nodeId} ${ACTION_TEXT[kind]}`);
    this.spreadMayChange();
  }

  noteResume(nodeId: string): void {
    const node = this.nodes.get(nodeId);
    const pause = lastOf(this.actions, (a) => a.kind === 'pause' && a.nodeId === nodeId);
    if (pause) pause.resumedAt = Date.now();
    // Read before it counts as up again: what the others led without it.
    const meanwhile = this.spreadNow();
    if (node?.status === 'paused') node.status = 'up';
    this.say(
      `${nodeId} resumed (SIGCONT)` +
        (meanwhile
          ? `; while it was frozen the others came to lead ${spreadText(meanwhile.leading)}`
          : ''),
    );
    this.spreadMayChange();
  }

  /** The node whose leadership began last, while it lasts. */
  master(): NodeView | undefined {
    const latest = this.leaderships.at(-1);
    if (!latest) return undefined;
    const node = this.nodes.get(latest.nodeId);
    return node?.isMaster && node.term === latest.term ? node : undefined;
  }

  live(): NodeView[] {
    return [...this.nodes.values()].filter((n) => ['starting', 'up', 'paused'].includes(n.status));
  }

  /** Running and answering: neither starting, nor frozen, nor on its way out. */
  up(): NodeView[] {
    return [...this.nodes.values()].filter((n) => n.status === 'up');
  }

  /**
   * How the balanced elections are spread over the nodes that are up now, by their own reports;
   * `whole` when each is led by exactly one of them. Undefined without --elections.
   */
  spreadNow(): { leading: Record<string, number>; share: number; whole: boolean } | undefined {
    if (!this.balance) return undefined;
    const up = this.up();
    const led = up.flatMap((node) => node.leading ?? []);
    const count = this.balance.elections.length;
    return {
      leading: Object.fromEntries(up.map((node) => [node.id, node.leading?.length ?? 0])),
      share: Math.ceil(count / up.length),
      whole: led.length === count && new Set(led).size === count,
    };
  }

  /** Resolves when `condition` holds; fails after `timeoutMs`, or at once if a node died by itself. */
  async waitFor(condition: () => unknown, what: string, timeoutMs: number): Promise<void> {
    await waitFor(
      () => {
        if (this.failure) throw new Error(this.failure);
        return condition();
      },
      what,
      timeoutMs,
      50,
    );
  }

  /**
   * Something that can move the spread happened: once nothing has for the settle time, and every
   * balanced election is led, the spread is recorded and told.
   */
  private spreadMayChange(): void {
    if (!this.balance) return;
    clearTimeout(this.settleTimer);
    this.settleTimer = setTimeout(() => this.recordSpread(), this.balance.settleMs).unref();
  }

  private recordSpread(): void {
    const now = this.spreadNow();
    if (this.quitting || !now?.whole) return;
    const { leading, share } = now;
    const before = this.spreads.reduce((sum, spread) => sum + spread.rebalanced, 0);
    const rebalanced = this.rebalanced - before;
    this.spreads.push({ at: Date.now(), leading, share, rebalanced });
    const nodes = Object.keys(leading).length;
    this.say(
      `balanced: ${spreadText(leading)}  (${this.balance!.elections.length} elections, share ${share} ` +
        `over ${nodes} node${nodes > 1 ? 's' : ''}; ${rebalanced} handed over by balancing since the last)`,
    );
  }

  /** One line of news; runs are told apart because they come every interval. */
  say(text: string, kind: 'news' | 'run' = 'news'): void {
    this.emit('message', text, kind);
  }

  private elected(leadership: Leadership): void {
    const previous = this.leaderships.at(-1);
    this.leaderships.push(leadership);
    const { nodeId, term } = leadership;
    if (!previous) return this.say(`${nodeId} is master (term ${term})`);
    const action = lastOf(
      this.actions,
      (a) => a.nodeId === previous.nodeId && a.term === previous.term,
    );
    const since = action?.at ?? previous.endedAt;
    const handOver: HandOver = {
      from: previous.nodeId,
      to: nodeId,
      fromTerm: previous.term,
      toTerm: term,
      at: leadership.at,
      cause: action
        ? `${action.nodeId} ${ACTION_TEXT[action.kind]}`
        : previous.reason && `${previous.nodeId} stepped down (${previous.reason})`,
      tookMs: since === undefined ? undefined : leadership.at - since,
    };
    this.handOvers.push(handOver);
    const took = handOver.tookMs === undefined ? '' : ` in ${seconds(handOver.tookMs)}`;
    this.say(
      `hand-over ${previous.nodeId} → ${nodeId}${took}, term ${term}${handOver.cause ? ` (${handOver.cause})` : ''}`,
    );
  }

  private steppedDown(nodeId: string, term: number, at: number, reason: string): void {
    const leadership = this.leaderships.find((l) => l.nodeId === nodeId && l.term === term);
    if (leadership) Object.assign(leadership, { endedAt: at, reason });
    const pause = this.actions.find(
      (a) => a.kind === 'pause' && a.nodeId === nodeId && a.term === term,
    );
    if (pause && !pause.steppedDown && at >= pause.at) pause.steppedDown = { at, reason };
    this.say(`${nodeId} is no longer master (term ${term}, ${reason})`);
  }
}
