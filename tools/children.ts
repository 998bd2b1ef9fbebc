import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/** How a child ended: its exit code, or the signal that ended it (-2 and null: it never started). */
export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** One process started through `Children`, and what can be done to it, by its own handle. */
export class Child {
  /** Resolves once it has exited and its output is all read (or it failed to start). */
  readonly exited: Promise<Exit>;
  /** Why it could not be started or signalled (ENOENT, EACCES), if it could not. */
  error?: Error;

  constructor(
    readonly process: ChildProcess,
    /** It leads a process group of its own (`detached`), which a kill ends whole. */
    private readonly group: boolean,
  ) {
    process.on('error', (error) => (this.error = error));
    this.exited = new Promise((resolve) =>
      process.once('close', (code, signal) => resolve({ code, signal })),
    );
  }

  /** Its process id; -1 when it could not be started. */
  get pid(): number {
    return this.process.pid ?? -1;
  }

  get alive(): boolean {
    return this.pid > 0 && this.process.exitCode === null && this.process.signalCode === null;
  }

  /** Sends `signal` to it, unless it has exited. */
  signal(signal: NodeJS.Signals): void {
    if (this.alive) this.process.kill(signal);
  }

  /** SIGSTOP: frozen, its connections open and nothing answered, until `resume`. */
  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  /** SIGKILL, paused or not (to its group when it has one); resolves once it has exited. */
  async kill(): Promise<Exit> {
    this.killNow();
    return this.exited;
  }

  /** SIGKILL at once, synchronously, for a process 'exit' handler. */
  killNow(): void {
    if (!this.alive) return;
    this.process.kill('SIGCONT');
    try {
      if (this.group) globalThis.process.kill(-this.pid, 'SIGKILL');
      else this.process.kill('SIGKILL');
    } catch {
      // Gone in between.
    }
  }

  /**
   * SIGTERM (after SIGCONT, should it be paused), then SIGKILL if it has not exited within
   * `graceMs`; resolves with whether it exited by itself.
   */
  async stop(graceMs: number): Promise<boolean> {
    if (!this.alive) {
      await this.exited;
      return true;
    }
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const alone = await Promise.race([
      this.exited.then(() => true),
      new Promise<false>((resolve) => (timer = setTimeout(resolve, graceMs, false))),
    ]);
    clearTimeout(timer);
    if (!alone) await this.kill();
    return alone;
  }

  /** Calls `onLine` with each line it prints on `stream` (which must be a pipe). */
  lines(stream: 'stdout' | 'stderr', onLine: (line: string) => void): void {
    const input = this.process[stream];
    if (!input) throw new Error(`the child's ${stream} is not a pipe`);
    createInterface({ input }).on('line', onLine);
  }
}

/**
 * The processes one program started, each killed by its own handle: nothing found by name or
 * pattern. `killOnExit` makes them die with the program however it ends.
 */
export class Children {
  private readonly running = new Set<Child>();
  private exitHook?: () => void;

  spawn(command: string, args: readonly string[], options: SpawnOptions = {}): Child {
    const child = new Child(spawn(command, args, options), options.detached === true);
    this.running.add(child);
    void child.exited.then(() => this.running.delete(child));
    return child;
  }

  /** SIGKILL to every child still running, synchronously. */
  killAll(): void {
    for (const child of this.running) child.killNow();
  }

  /**
   * Kills every child when this process exits: on process.exit(), at the end of its work, or on an
   * uncaught error. A signal ends the process without an 'exit', unless a handler exits.
   */
  killOnExit(): void {
    this.exitHook ??= () => this.killAll();
    process.off('exit', this.exitHook);
    process.on('exit', this.exitHook);
  }
}

/** The children of this process. */
export const children = new Children();
