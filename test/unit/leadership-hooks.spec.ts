import { describe, expect, it } from 'vitest';
import { LeadershipHooks } from '../../lib/core/election/leadership-hooks.js';
import type { LeadershipChange } from '../../lib/core/interfaces/leadership-change.interface.js';
import type { MasterContext } from '../../lib/core/interfaces/master-context.interface.js';
import { Lines } from './election-rig.js';
import { ManualClock, sleepOn } from './manual-clock.js';

const context = { name: 'feed', term: 7 } as MasterContext;
const change: LeadershipChange = {
  name: 'feed',
  nodeId: 'a',
  isMaster: false,
  term: 7,
  reason: 'resigned',
};

describe('LeadershipHooks on a controlled clock', () => {
  it('resolves elected() when the handlers return, or after the bound with a warning', async () => {
    const clock = new ManualClock();
    const lines = new Lines();
    const counters = { callbackErrors: 0 };
    let hang = false;
    const hooks = new LeadershipHooks(
      'feed',
      [{ id: 'Feed.open', run: () => (hang ? new Promise(() => undefined) : sleepOn(clock, 200)) }],
      [],
      lines,
      counters,
      clock,
    );
    let resolvedAt: number | undefined;
    void hooks.elected(context, 1000).then(() => (resolvedAt = clock.now()));
    await clock.advance(1000);
    expect(resolvedAt).toBe(200);
    expect(lines.at('warn')).toEqual([]);

    hang = true;
    const from = clock.now();
    void hooks.elected(context, 1000).then(() => (resolvedAt = clock.now()));
    await clock.advance(999);
    expect(resolvedAt).toBe(200);
    await clock.advance(1);
    expect(resolvedAt).toBe(from + 1000);
    expect(lines.at('warn')).toEqual([
      'Election "feed": the @OnElected handlers did not finish within 1000 ms; the master jobs start anyway',
    ]);
  });

  it('starts the revoked handlers of a leadership after its elected handlers returned', async () => {
    const clock = new ManualClock();
    const events: string[] = [];
    const hooks = new LeadershipHooks(
      'feed',
      [{ id: 'Feed.open', run: () => sleepOn(clock, 300).then(() => void events.push('opened')) }],
      [{ id: 'Feed.close', run: (c) => void events.push(`closed:${c.reason}`) }],
      new Lines(),
      { callbackErrors: 0 },
      clock,
    );
    void hooks.elected(context, 1000);
    await clock.advance(100);
    hooks.revoked(change);
    await clock.advance(199);
    expect(events).toEqual([]);
    await clock.advance(1);
    expect(events).toEqual(['opened', 'closed:resigned']);
  });

  it('logs and counts a handler that throws; drain() warns when the handlers outlast what is left', async () => {
    const clock = new ManualClock();
    const lines = new Lines();
    const counters = { callbackErrors: 0 };
    const hooks = new LeadershipHooks(
      'feed',
      [
        {
          id: 'Feed.open',
          run: () => {
            throw new Error('cannot open');
          },
        },
      ],
      [{ id: 'Feed.close', run: () => sleepOn(clock, 5000) }],
      lines,
      counters,
      clock,
    );
    await hooks.elected(context, 1000);
    expect(counters.callbackErrors).toBe(1);
    expect(lines.at('error')).toEqual([
      'Election "feed": the @OnElected handler failed (Feed.open): cannot open',
    ]);
    hooks.revoked(change);
    let drained = false;
    void hooks.drain(500, 2000).then(() => (drained = true));
    await clock.advance(499);
    expect(drained).toBe(false);
    await clock.advance(1);
    expect(drained).toBe(true);
    expect(lines.at('warn')).toHaveLength(1);
    expect(lines.at('warn')[0]).toMatch(/Election "feed".*2000 ms/);
  });
});
