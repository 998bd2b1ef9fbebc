import { describe, expect, it } from 'vitest';
import { zeroCounters } from '../../lib/core/election/election-counters.js';
import type { MasterContext } from '../../lib/core/interfaces/master-context.interface.js';
import { JobRunner } from '../../lib/core/election/job-runner.js';
import { Lines } from './election-rig.js';
import { ManualClock, sleepOn } from './manual-clock.js';

function context(signal = new AbortController().signal): MasterContext {
  return {
    name: 'job',
    nodeId: 'a',
    term: 1,
    scheduledAt: new Date(0),
    signal,
    leaseValid: () => true,
    throwIfLost: () => undefined,
  };
}

describe('JobRunner on a controlled clock', () => {
  it('runs every job of a run; a failing one is logged and counted, the others finish', async () => {
    const clock = new ManualClock();
    const stats = zeroCounters();
    const lines = new Lines();
    const done: string[] = [];
    const runner = new JobRunner(
      [
        { id: 'Jobs.bad', run: () => Promise.reject(new Error('boom')) },
        { id: 'Jobs.slow', run: () => sleepOn(clock, 100).then(() => void done.push('slow')) },
      ],
      stats,
      lines,
      clock,
    );
    const run = runner.start(context());
    await clock.advance(50);
    // One job failed; the run goes on until the other ends.
    expect(stats.failedRuns).toBe(1);
    expect(runner.busy).toBe(true);
    await clock.advance(50);
    await run;
    expect(done).toEqual(['slow']);
    expect(runner.busy).toBe(false);
    expect(stats).toMatchObject({ runs: 1, failedRuns: 1 });
    expect(lines.at('error')).toEqual(['Election "job": the master job failed (Jobs.bad): boom']);
  });

  it('runs once after the current run, and not at all when the leadership ended meanwhile', async () => {
    const clock = new ManualClock();
    const starts: number[] = [];
    const runner = new JobRunner(
      [{ id: 'job', run: () => (starts.push(clock.now()), sleepOn(clock, 200)) }],
      zeroCounters(),
      new Lines(),
      clock,
    );
    void runner.start(context());
    let ran: boolean | undefined;
    void runner.runAfterCurrent(context(), () => true).then((result) => (ran = result));
    await clock.advance(199);
    expect(starts).toEqual([0]);
    await clock.advance(1);
    expect(starts).toEqual([0, 200]);
    await clock.advance(200);
    expect(ran).toBe(true);

    void runner.start(context());
    let leading = true;
    void runner.runAfterCurrent(context(), () => leading).then((result) => (ran = result));
    leading = false;
    await clock.advance(400);
    expect(ran).toBe(false);
    expect(starts).toEqual([0, 200, 400]);
  });

  it('drains within the time it is given: true when the runs ended, false when one outlasts it', async () => {
    const clock = new ManualClock();
    const runner = new JobRunner(
      [{ id: 'job', run: () => sleepOn(clock, 300) }],
      zeroCounters(),
      new Lines(),
      clock,
    );
    await clock.advance(50);
    void runner.start(context());
    expect(runner.runStartedSince(50)).toBe(true);
    expect(runner.runStartedSince(51)).toBe(false);
    let drained: boolean | undefined;
    void runner.drain(100).then((result) => (drained = result));
    await clock.advance(99);
    expect(drained).toBeUndefined();
    await clock.advance(1);
    expect(drained).toBe(false);
    void runner.drain(500).then((result) => (drained = result));
    await clock.advance(200);
    expect(drained).toBe(true);
    expect(runner.idle).toBe(true);
  });

  it('counts a tracked run (a guarded method of the schedule) until it settles, even when it rejects', async () => {
    const clock = new ManualClock();
    const runner = new JobRunner([], zeroCounters(), new Lines(), clock);
    runner.track(sleepOn(clock, 100).then(() => Promise.reject(new Error('body failed'))));
    expect(runner.idle).toBe(false);
    let drained: boolean | undefined;
    void runner.drain(1000).then((result) => (drained = result));
    await clock.advance(100);
    expect(drained).toBe(true);
    expect(runner.idle).toBe(true);
  });
});
