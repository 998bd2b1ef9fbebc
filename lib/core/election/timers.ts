import { systemClock } from '../utils/clock.js';
import { TimerWheel, type WheelTimer } from '../utils/timer-wheel.js';

/**
 * Named one-shot timers, each with its handler: setting one replaces it, so each name is pending
 * at most once. They run on a TimerWheel, which many elections share: the timers of all of them
 * that fall due in one slice fire together. A handler may be async; a rejection goes to `onError`
 * instead of becoming unhandled.
 */
export class Timers<Name extends string> {
  private readonly pending = new Map<Name, WheelTimer>();

  constructor(
    private readonly handlers: Readonly<Record<Name, () => unknown>>,
    private readonly onError: (error: unknown) => void,
    private readonly wheel: TimerWheel = new TimerWheel(systemClock, 0),
  ) {}

  set(name: Name, ms: number): void {
    this.clear(name);
    const timer = this.wheel.set(() => {
      this.pending.delete(name);
      Promise.resolve()
        .then(() => this.handlers[name]())
        .catch(this.onError);
    }, ms);
    this.pending.set(name, timer);
  }

  clear(name: Name): void {
    this.wheel.clear(this.pending.get(name));
    this.pending.delete(name);
  }

  clearAll(): void {
    for (const name of this.pending.keys()) this.clear(name);
  }
}
