import { describe, expect, it } from 'vitest';
import { Timers } from '../../lib/core/election/timers.js';
import { TimerWheel } from '../../lib/core/utils/timer-wheel.js';
import { ManualClock } from './manual-clock.js';

/** A wheel of `granularityMs` on a fresh manual clock, and what fired, with the time it fired at. */
function wheelOf(granularityMs: number) {
  const clock = new ManualClock();
  const wheel = new TimerWheel(clock, granularityMs);
  const fired: Array<[string, number]> = [];
  const set = (label: string, ms: number) => wheel.set(() => fired.push([label, clock.now()]), ms);
  return { clock, wheel, fired, set };
}

describe('TimerWheel', () => {
  it('fires the timers due in one slice together, from one clock timer, in the order set', async () => {
    const { clock, fired, set } = wheelOf(10);
    await clock.advance(3);
    set('b', 5);
    set('a', 4);
    set('c', 7);
    set('later', 8);
    expect(clock.pendingTimers).toBe(2);
    await clock.advance(20);
    expect(fired).toEqual([
      ['b', 10],
      ['a', 10],
      ['c', 10],
      ['later', 20],
    ]);
  });

  it('never fires early, and at most one slice late', async () => {
    const { clock, fired, set } = wheelOf(25);
    for (const [at, ms] of [
      [0, 1],
      [7, 25],
      [13, 49],
      [50, 0.5],
    ] as const) {
      await clock.advance(at - clock.now());
      set(`${at}+${ms}`, ms);
    }
    await clock.advance(200);
    for (const [label, firedAt] of fired) {
      const [at, ms] = label.split('+').map(Number) as [number, number];
      expect(firedAt).toBeGreaterThanOrEqual(at + ms);
      expect(firedAt).toBeLessThan(at + ms + 25);
    }
    expect(fired).toHaveLength(4);
  });

  it('fires a timer set for 0 ms on the next turn, not at the end of its slice', async () => {
    const { clock, fired, set } = wheelOf(1000);
    await clock.advance(1);
    set('now', 0);
    set('past', -5);
    await clock.advance(0);
    expect(fired).toEqual([
      ['now', 1],
      ['past', 1],
    ]);
  });

  it('keeps exact times with a granularity of 0', async () => {
    const { clock, fired, set } = wheelOf(0);
    set('a', 13);
    set('b', 7);
    await clock.advance(20);
    expect(fired).toEqual([
      ['b', 7],
      ['a', 13],
    ]);
  });

  it('clears a timer, and the slice’s clock timer with its last one', async () => {
    const { clock, wheel, fired, set } = wheelOf(10);
    const a = set('a', 5);
    const b = set('b', 6);
    wheel.clear(a);
    expect(clock.pendingTimers).toBe(1);
    wheel.clear(b);
    wheel.clear(b);
    wheel.clear(undefined);
    expect(clock.pendingTimers).toBe(0);
    expect(wheel.pendingSlices).toBe(0);
    await clock.advance(20);
    expect(fired).toEqual([]);
  });

  it('does not fire a timer that an earlier one of its slice cleared', async () => {
    const { clock, wheel, fired } = wheelOf(10);
    let second: ReturnType<TimerWheel['set']> | undefined;
    wheel.set(() => {
      fired.push(['first', clock.now()]);
      wheel.clear(second);
    }, 4);
    second = wheel.set(() => fired.push(['second', clock.now()]), 5);
    await clock.advance(20);
    expect(fired).toEqual([['first', 10]]);
  });

  it('fires the rest of a slice when one timer throws, and rethrows the first error after', () => {
    const timers: Array<() => void> = [];
    const wheel = new TimerWheel(
      {
        now: () => 0,
        wallNow: () => 0,
        setTimeout: (callback) => timers.push(callback),
        clearTimeout: () => undefined,
      },
      10,
    );
    const ran: string[] = [];
    wheel.set(() => {
      ran.push('a');
      throw new Error('a failed');
    }, 5);
    wheel.set(() => ran.push('b'), 5);
    expect(timers).toHaveLength(1);
    expect(() => timers[0]!()).toThrow('a failed');
    expect(ran).toEqual(['a', 'b']);
  });

  it('refuses a negative or missing granularity', () => {
    const clock = new ManualClock();
    expect(() => new TimerWheel(clock, -1)).toThrow('granularityMs must be >= 0: -1');
    expect(() => new TimerWheel(clock, Number.NaN)).toThrow('granularityMs must be >= 0: NaN');
  });
});

describe('Timers', () => {
  function timersOf(granularityMs: number) {
    const { clock, wheel } = wheelOf(granularityMs);
    const fired: Array<[string, number]> = [];
    const timers = new Timers<'renew' | 'expire'>(
      {
        renew: () => fired.push(['renew', clock.now()]),
        expire: () => fired.push(['expire', clock.now()]),
      },
      (error) => {
        throw error;
      },
      wheel,
    );
    return { clock, wheel, fired, timers };
  }

  it('fires a timer moved later at its new time, never at the old one', async () => {
    const { clock, wheel, fired, timers } = timersOf(10);
    timers.set('expire', 100);
    // Pushed on at every claim: 50 ms on, 60 ms more each time.
    for (let i = 0; i < 5; i++) {
      await clock.advance(50);
      timers.set('expire', 60);
      expect(wheel.pendingSlices).toBe(1);
    }
    expect(fired).toEqual([]);
    await clock.advance(100);
    expect(fired).toEqual([['expire', 310]]);
  });

  it('moves a timer earlier at once, and fires a cleared one never', async () => {
    const { clock, fired, timers } = timersOf(10);
    timers.set('renew', 200);
    timers.set('renew', 0);
    timers.set('expire', 100);
    timers.clear('expire');
    await clock.advance(300);
    expect(fired).toEqual([['renew', 0]]);
  });

  it('with exact times, fires to the millisecond after being moved', async () => {
    const { clock, fired, timers } = timersOf(0);
    timers.set('renew', 30);
    await clock.advance(20);
    timers.set('renew', 25);
    await clock.advance(100);
    expect(fired).toEqual([['renew', 45]]);
  });
});
