import { randomBytes } from 'node:crypto';
import { Election } from '../../lib/core/election/election.js';
import type { LeadershipHandler, MasterJob } from '../../lib/core/election/election-config.js';
import { CronSchedule } from '../../lib/core/election/schedule.js';
import { electionTiming } from '../../lib/core/election/timing.js';
import type { KettleLogger } from '../../lib/core/interfaces/kettle-options.interface.js';
import type { LeadershipChange } from '../../lib/core/interfaces/leadership-change.interface.js';
import type { MasterContext } from '../../lib/core/interfaces/master-context.interface.js';
import type { KettleStore, SlotClaimOptions } from '../../lib/core/store/kettle-store.interface.js';
import { MemoryStore } from '../../lib/core/store/memory.store.js';
import type { Clock } from '../../lib/core/utils/clock.js';
import { ShutdownDeadline } from '../../lib/core/utils/promise-timeout.js';
import { type ManualClock, sleepOn } from './manual-clock.js';

/** A command as it left a node: what, and when on the node's clock. */
export interface Sent {
  readonly command: string;
  readonly at: number;
}

/**
 * One node's link to a MemoryStore, as a network would carry it: each command reaches the store
 * `delayMs` after it is sent and its answer comes back `delayMs` later, or never while `cut`. The
 * store decides everything; the link only carries, as the TCP proxy of the Redis tests does.
 */
export class Link implements KettleStore {
  delayMs = 0;
  cut = false;
  readonly sameTermReclaims = true;
  readonly sent: Sent[] = [];
  /** The lease of each election's last acquire: what a test frees under its holder. */
  readonly leases = new Map<string, string>();
  /** Commands sent and not yet answered. */
  inFlight = 0;
  /** The command whose answers are held back until `deliver()`; the store has acted on them. */
  private holding?: string;
  private holdingElection?: string;
  private readonly held: Array<() => void> = [];

  constructor(
    readonly store: MemoryStore,
    private readonly clock: Clock,
  ) {}

  acquire(name: string, lease: string, ttlMs: number) {
    this.leases.set(name, lease);
    return this.carry('acquire', () => this.store.acquire(name, lease, ttlMs));
  }
  renew(name: string, lease: string, ttlMs: number) {
    return this.carry('renew', () => this.store.renew(name, lease, ttlMs));
  }
  release(name: string, lease: string) {
    return this.carry('release', () => this.store.release(name, lease));
  }
  holder(name: string) {
    return this.carry('holder', () => this.store.holder(name));
  }
  claimRun(name: string, lease: string, intervalMs: number, ttlMs: number) {
    return this.carry('claimRun', () => this.store.claimRun(name, lease, intervalMs, ttlMs), name);
  }
  claimSlot(name: string, lease: string, slotMs: number, ttlMs: number, options: SlotClaimOptions) {
    return this.carry('claimSlot', () => this.store.claimSlot(name, lease, slotMs, ttlMs, options));
  }
  onReleased(listener: (name: string) => void, only?: string): () => void {
    // A cut link hears no announcement either.
    return this.store.onReleased((name) => this.cut || listener(name), only);
  }
  close(): Promise<void> {
    return this.store.close();
  }

  /**
   * Holds back the answers to `command` (it reaches the store as usual) until `deliver()`; with
   * `election`, only the answers for that election.
   */
  holdAnswers(command: string, election?: string): void {
    this.holding = command;
    this.holdingElection = election;
  }

  /** Answers held back. */
  get heldAnswers(): number {
    return this.held.length;
  }

  /** Lets the held answers go, and holds no more. */
  deliver(): void {
    this.holding = undefined;
    for (const answer of this.held.splice(0)) answer();
  }

  /** The commands named `command` sent so far. */
  sentOf(command: string): Sent[] {
    return this.sent.filter((sent) => sent.command === command);
  }

  private async carry<T>(command: string, send: () => Promise<T>, election?: string): Promise<T> {
    this.sent.push({ command, at: this.clock.now() });
    if (this.cut) return new Promise<T>(() => undefined);
    this.inFlight++;
    try {
      await this.wait();
      const answer = await send();
      const held =
        this.holding === command &&
        (this.holdingElection === undefined || this.holdingElection === election);
      if (held) await new Promise<void>((resolve) => this.held.push(resolve));
      await this.wait();
      return answer;
    } finally {
      this.inFlight--;
    }
  }

  private async wait(): Promise<void> {
    if (this.delayMs > 0)
      await new Promise<void>((resolve) => this.clock.setTimeout(resolve, this.delayMs));
  }
}

/** A leadership change as a listener heard it, and when on the shared clock. */
export interface HeardChange extends LeadershipChange {
  readonly at: number;
}

/** A run of a node's job: when it started and ended, for which slot, and whether it was asked to stop. */
export interface Run {
  readonly nodeId: string;
  readonly slot: number;
  readonly term: number;
  /** When it started, on the monotonic clock and on the store's wall clock. */
  readonly start: number;
  readonly startOnStoreClock: number;
  end?: number;
  readonly context: MasterContext;
}

export interface NodeOptions {
  readonly interval?: number;
  readonly leaseTtl?: number;
  readonly cron?: string;
  /** How long each run takes on the clock, whatever its signal says; undefined: it returns at once. */
  readonly runMs?: number;
  /** This node's wall clock is this far off the store's. */
  readonly wallOffsetMs?: number;
  readonly jobs?: readonly MasterJob[];
  readonly onElected?: readonly LeadershipHandler<MasterContext>[];
  readonly onRevoked?: readonly LeadershipHandler<LeadershipChange>[];
}

/** Lines a node logged, by level. */
export class Lines implements KettleLogger {
  readonly lines: Array<{ level: string; message: string }> = [];
  log = (message: string) => void this.lines.push({ level: 'log', message });
  warn = (message: string) => void this.lines.push({ level: 'warn', message });
  error = (message: string) => void this.lines.push({ level: 'error', message });
  debug = (message: string) => void this.lines.push({ level: 'debug', message });
  at(level: string): string[] {
    return this.lines.filter((line) => line.level === level).map((line) => line.message);
  }
}

/**
 * Nodes of one election on one MemoryStore (a key space of its own), all on one ManualClock:
 * the store dates leases and slots on its wall time, each node on its own (maybe offset) view.
 */
export class Rig {
  readonly store: MemoryStore;
  readonly changes: HeardChange[] = [];
  readonly runs: Run[] = [];
  readonly nodes: Node[] = [];
  /** When each leadership's signal aborted, on the clock; undefined while it has not. */
  readonly abortedAt = new Map<AbortSignal, number | undefined>();
  private count = 0;

  constructor(
    readonly clock: ManualClock,
    readonly name = 'job',
  ) {
    this.store = new MemoryStore(`unit:${randomBytes(4).toString('hex')}:`, clock);
  }

  /** A node, started unless `start` is false. */
  node(options: NodeOptions = {}, start = true): Node {
    const node = new Node(this, `n${this.count++}`, options);
    this.nodes.push(node);
    if (start) node.election.start();
    return node;
  }

  /** The one node that is master, or undefined when none or several are. */
  master(): Node | undefined {
    const masters = this.nodes.filter((node) => node.election.isMaster);
    return masters.length === 1 ? masters[0] : undefined;
  }

  /** When the signal `run` was given aborted; undefined while it has not. */
  abortedAtOf(run: Run): number | undefined {
    return this.abortedAt.get(run.context.signal);
  }

  runsOf(node: Node): Run[] {
    return this.runs.filter((run) => run.nodeId === node.id);
  }

  /** Stops every node that is not stopped yet; no timer may outlive that. */
  async stopAll(): Promise<void> {
    const stops = this.nodes.map((node) => node.stop());
    await this.clock.advanceUntil(() => this.nodes.every((n) => n.stopped), 'every node stopped');
    await Promise.all(stops);
  }
}

export class Node {
  readonly election: Election;
  readonly link: Link;
  readonly lines = new Lines();
  stopped = false;
  /** How long each run from now on takes (NodeOptions.runMs, which a test may change). */
  runMs: number | undefined;
  readonly interval: number;

  constructor(
    private readonly rig: Rig,
    readonly id: string,
    options: NodeOptions,
  ) {
    const { clock } = rig;
    this.runMs = options.runMs;
    this.interval = options.interval ?? 100;
    const nodeClock = options.wallOffsetMs ? clock.offsetBy(options.wallOffsetMs) : clock;
    this.link = new Link(rig.store, nodeClock);
    const cron = options.cron
      ? { schedule: new CronSchedule(options.cron, 'UTC'), catchUp: 'latest' as const }
      : undefined;
    this.election = new Election({
      name: rig.name,
      nodeId: id,
      timing: electionTiming(this.interval, options.leaseTtl ?? 1500),
      cron,
      clock: nodeClock,
      jobs: options.jobs ?? [{ id: 'job', run: (context) => this.run(context) }],
      onElected: options.onElected,
      onRevoked: options.onRevoked,
      store: this.link,
      logger: this.lines,
      verbose: true,
      listeners: [(change) => void rig.changes.push({ ...change, at: clock.now() })],
    });
  }

  /** Holds back the answer to this master's next claim, and runs the clock until it is sent. */
  async holdNextClaim(): Promise<void> {
    this.link.holdAnswers('claimRun');
    await this.rig.clock.advanceUntil(
      () => this.link.heldAnswers > 0,
      'a claim on its way',
      2 * this.interval,
    );
  }

  /** Starts a stop with a deadline `timeoutMs` long on the clock; `stopped` once it resolved. */
  stop(timeoutMs = 5000): Promise<void> {
    return this.election.stop(new ShutdownDeadline(timeoutMs, this.rig.clock)).then(() => {
      this.stopped = true;
    });
  }

  private async run(context: MasterContext): Promise<void> {
    const { clock } = this.rig;
    const run: Run = {
      nodeId: this.id,
      slot: context.scheduledAt.getTime(),
      term: context.term,
      start: clock.now(),
      startOnStoreClock: clock.wallNow(),
      context,
    };
    this.rig.runs.push(run);
    // One listener per leadership: its runs share the signal.
    const { signal } = context;
    if (!this.rig.abortedAt.has(signal) && !signal.aborted) {
      this.rig.abortedAt.set(signal, undefined);
      signal.addEventListener('abort', () => this.rig.abortedAt.set(signal, clock.now()));
    }
    if (this.runMs !== undefined) await sleepOn(clock, this.runMs);
    run.end = clock.now();
  }
}
