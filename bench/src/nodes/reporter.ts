import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { epochNow } from '#tools/clock.js';
import { writeEventLine } from '#tools/event-lines.js';
import { env } from './env.js';
import { encodeBits, type NodeMessage } from './protocol.js';

const ELD_RESOLUTION_MS = 10;

/**
 * The node's side of the protocol: prints run and leadership records, answers the driver's
 * `stats` requests on stdin, and exits when stdin closes so that no node outlives a driver that
 * died without cleaning up.
 */
class Reporter {
  private runs = 0;
  private missed = 0;
  private repeats = 0;
  private leadChanges = 0;
  /** When each election last ran here (0: never), on epochNow(). */
  private readonly lastRun = new Float64Array(env.elections);
  /** The slot each election last ran here (0: never, or a peer that reports none). */
  private readonly lastSlot = new Float64Array(env.elections);
  private readonly leading = new Set<number>();
  private readonly eld = monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS });
  private startRequested = false;
  private onStart?: () => void;

  constructor() {
    this.eld.enable();
    const lines = createInterface({ input: process.stdin });
    lines.on('line', (line) => {
      const command = line.trim();
      if (command === 'stats') this.stats();
      if (command === 'start') {
        this.startRequested = true;
        this.onStart?.();
      }
    });
    lines.on('close', () => process.exit(0));
  }

  /**
   * Says the node's modules are loaded and waits for the driver's `start`. Loading takes a CPU
   * second or more; a warm spare keeps that out of the moments the bench measures.
   */
  parked(): Promise<void> {
    this.emit({ ev: 'parked', t: epochNow(), node: env.nodeId, pid: process.pid });
    if (this.startRequested) return Promise.resolve();
    return new Promise((resolve) => (this.onStart = resolve));
  }

  /**
   * One run of election `index`. Only election 0's runs are printed (every election's with
   * TRACE_ELECTIONS=1): at 10,000 elections the rest would flood stdout. With a slot (a peer that
   * says which interval a run is for), a repeat is a slot run again and a miss a slot skipped, so
   * that a late run followed by an on-time one is neither; without one, both are read off the
   * time between runs.
   */
  run(index: number, term?: number, slot?: number): void {
    const t = epochNow();
    this.runs++;
    const last = this.lastRun[index] ?? 0;
    const lastSlot = this.lastSlot[index] ?? 0;
    if (slot !== undefined && lastSlot > 0) {
      const gap = (slot - lastSlot) / env.interval;
      if (gap >= 1.5) this.missed += Math.round(gap) - 1;
      else if (gap < 0.5) this.repeats++;
    } else if (slot === undefined && last > 0) {
      const gap = (t - last) / env.interval;
      if (gap >= 1.5) this.missed += Math.round(gap) - 1;
      else if (gap < 0.5) this.repeats++;
    }
    this.lastRun[index] = t;
    if (slot !== undefined) this.lastSlot[index] = slot;
    if (index === 0) this.emit({ ev: 'run', t, node: env.nodeId, term, slot });
    if (env.traceElections)
      this.emit({ ev: 'election-run', t, node: env.nodeId, election: index, term, slot });
  }

  /** `reason`: why it stopped leading, where the peer says. */
  lead(index: number, on: boolean, term?: number, reason?: string): void {
    const t = epochNow();
    if (on === this.leading.has(index)) return;
    if (on) this.leading.add(index);
    else this.leading.delete(index);
    this.leadChanges++;
    if (index === 0) this.emit({ ev: 'lead', t, node: env.nodeId, on, term });
    if (env.traceElections)
      this.emit({ ev: 'election-lead', t, node: env.nodeId, election: index, on, term, reason });
    const count = this.leading.size;
    if (on && [1, Math.ceil(env.elections / 2), env.elections].includes(count))
      this.emit({ ev: 'led', t, node: env.nodeId, count });
  }

  isLeading(index: number): boolean {
    return this.leading.has(index);
  }

  ready(): void {
    this.emit({ ev: 'ready', t: epochNow(), node: env.nodeId, pid: process.pid });
  }

  error(message: string): void {
    this.emit({ ev: 'error', t: epochNow(), node: env.nodeId, message });
  }

  private stats(): void {
    const cpu = process.cpuUsage();
    const memory = process.memoryUsage();
    // The histogram records the time between samples, the sampling period included.
    const delay = (ns: number) => Math.max(0, ns / 1e6 - ELD_RESOLUTION_MS);
    const eld =
      this.eld.count > 0
        ? {
            p50: delay(this.eld.percentile(50)),
            p99: delay(this.eld.percentile(99)),
            max: delay(this.eld.max),
          }
        : { p50: 0, p99: 0, max: 0 };
    this.eld.reset();
    const t = epochNow();
    let stale = 0;
    for (const last of this.lastRun) if (t - last > 2 * env.interval) stale++;
    const recent = (i: number) => t - this.lastRun[i]! <= 2 * env.interval;
    this.emit({
      ev: 'stats',
      t: epochNow(),
      node: env.nodeId,
      cpuUs: cpu.user + cpu.system,
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      eld,
      runs: this.runs,
      missed: this.missed,
      repeats: this.repeats,
      stale,
      leading: this.leading.size,
      leadingBits: encodeBits(env.elections, (i) => this.leading.has(i)),
      recentBits: encodeBits(env.elections, recent),
      leadChanges: this.leadChanges,
    });
  }

  private emit(message: NodeMessage): void {
    writeEventLine(message);
  }
}

export const reporter = new Reporter();
