import { catchRejection } from '../utils/thrown-values.js';
import type { TimerWheel, WheelTimer } from '../utils/timer-wheel.js';

/** One named timer: its wheel timer while pending, when it is due, and what it calls. */
interface Slot {
  timer?: WheelTimer;
  /** On the wheel's clock; a field updated in place, so that moving it allocates nothing. */
  due: number;
  readonly fire: () => void;
}

/**
 * Named one-shot timers, each with its handler: setting one replaces it, so each name is pending
 * at most once. They run on a TimerWheel, which many elections share: the timers of all of them
 * that fall due in one slice fire together. A handler may be async; a rejection goes to `onError`
 * instead of becoming unhandled.
 *
 * A timer moved later keeps its wheel timer, which on firing early sets itself again for what is
 * left: a master pushes its renew and expire timers on at every claim, and a new wheel timer each
 * time would cost 10,000 elections one every second.
 */
export class Timers<Name extends string> {
  private readonly slots = new Map<Name, Slot>();

  constructor(
    private readonly handlers: Readonly<Record<Name, () => unknown>>,
    private readonly onError: (error: unknown) => void,
    private readonly wheel: TimerWheel,
  ) {
    for (const name of Object.keys(handlers) as Name[]) {
      const slot: Slot = { due: 0, fire: () => this.fired(name, slot) };
      this.slots.set(name, slot);
    }
  }

  set(name: Name, ms: number): void {
    const now = this.wheel.now();
    this.setFrom(name, now, now + ms);
  }

  /** Sets `name` for the time `at` on the wheel's clock (a deadline the caller keeps). */
  setAt(name: Name, at: number): void {
    this.setFrom(name, this.wheel.now(), at);
  }

  private setFrom(name: Name, now: number, at: number): void {
    const slot = this.slots.get(name)!;
    slot.due = at;
    const ms = at - now;
    if (slot.timer && this.wheel.firesBy(slot.timer, ms, now)) return;
    this.wheel.clear(slot.timer);
    slot.timer = this.wheel.set(slot.fire, ms, now);
  }

  clear(name: Name): void {
    const slot = this.slots.get(name)!;
    this.wheel.clear(slot.timer);
    slot.timer = undefined;
  }

  clearAll(): void {
    for (const name of this.slots.keys()) this.clear(name);
  }

  private fired(name: Name, slot: Slot): void {
    const left = slot.due - this.wheel.now();
    if (left > 0) {
      slot.timer = this.wheel.set(slot.fire, left);
      return;
    }
    slot.timer = undefined;
    try {
      catchRejection(this.handlers[name](), this.onError);
    } catch (error) {
      this.onError(error);
    }
  }
}
