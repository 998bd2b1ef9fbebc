import { catchRejection } from '../utils/thrown-values.js';
import type { TimerWheel, WheelTimer } from '../utils/timer-wheel.js';

/**
 * Named one-shot timers, each with its handler: setting one replaces it, so each name is pending
 * at most once. They run on a TimerWheel, which many elections share: the timers of all of them
 * that fall due in one slice fire together. A handler may be async; a rejection goes to `onError`
 * instead of becoming unhandled.
 */
export class Timers<Name extends string> {
  private readonly pending = new Map<Name, WheelTimer>();
  /** Per name, what its timer calls: made once, not at every set. */
  private readonly fire = new Map<Name, () => void>();

  constructor(
    private readonly handlers: Readonly<Record<Name, () => unknown>>,
    private readonly onError: (error: unknown) => void,
    private readonly wheel: TimerWheel,
  ) {
    for (const name of Object.keys(handlers) as Name[])
      this.fire.set(name, () => {
        this.pending.delete(name);
        try {
          catchRejection(this.handlers[name](), this.onError);
        } catch (error) {
          this.onError(error);
        }
      });
  }

  set(name: Name, ms: number): void {
    this.clear(name);
    this.pending.set(name, this.wheel.set(this.fire.get(name)!, ms));
  }

  clear(name: Name): void {
    this.wheel.clear(this.pending.get(name));
    this.pending.delete(name);
  }

  clearAll(): void {
    for (const name of this.pending.keys()) this.clear(name);
  }
}
