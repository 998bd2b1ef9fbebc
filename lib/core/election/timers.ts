import { type Clock, systemClock } from '../utils/clock.js';

/**
 * Named one-shot timers, each with its handler: setting one replaces it, so each name is pending
 * at most once. A handler may be async; a rejection goes to `onError` instead of becoming
 * unhandled.
 */
export class Timers<Name extends string> {
  private readonly pending = new Map<Name, unknown>();

  constructor(
    private readonly handlers: Readonly<Record<Name, () => unknown>>,
    private readonly onError: (error: unknown) => void,
    private readonly clock: Clock = systemClock,
  ) {}

  set(name: Name, ms: number): void {
    this.clear(name);
    const handle = this.clock.setTimeout(
      () => {
        this.pending.delete(name);
        Promise.resolve()
          .then(() => this.handlers[name]())
          .catch(this.onError);
      },
      Math.max(0, ms),
    );
    this.pending.set(name, handle);
  }

  clear(name: Name): void {
    this.clock.clearTimeout(this.pending.get(name));
    this.pending.delete(name);
  }

  clearAll(): void {
    for (const name of this.pending.keys()) this.clear(name);
  }
}
