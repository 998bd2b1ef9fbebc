import { describe, expect, it } from 'vitest';
import { zeroCounters } from '../../lib/core/election/election-counters.js';
import type { MasterContext } from '../../lib/core/interfaces/master-context.interface.js';
import type { RunObserver } from '../../lib/core/interfaces/run-observer.interface.js';
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

describe('JobRunner with run observers', () => {
  it('wraps each job of a run in every observer, the first outermost, and tells them how it ended', async () => {
    const clock = new ManualClock();
    const stats = zeroCounters();
    const seen: string[] = [];
    const observer =
      (label: string): RunObserver =>
      async (run, proceed) => {
        seen.push(`${label} start ${run.job} term ${run.term} at ${clock.now()}`);
        const outcome = await proceed();
        const ended = outcome.ok ? 'ok' : `failed: ${(outcome.error as Error).message}`;
        seen.push(`${label} end ${run.job} ${ended} at ${clock.now()}`);
      };
    const runner = new JobRunner(
      [
        { id: 'Jobs.slow', run: () => sleepOn(clock, 100) },
        { id: 'Jobs.bad', run: () => Promise.reject(new Error('boom')) },
      ],
      stats,
      new Lines(),
      clock,
      new Set([observer('outer'), observer('inner')]),
    );
    const run = runner.start(context());
    await clock.advance(100);
    await run;
    expect(seen).toEqual([
      'outer start Jobs.slow term 1 at 0',
      'inner start Jobs.slow term 1 at 0',
      'outer start Jobs.bad term 1 at 0',
      'inner start Jobs.bad term 1 at 0',
      'inner end Jobs.bad failed: boom at 0',
      'outer end Jobs.bad failed: boom at 0',
      'inner end Jobs.slow ok at 100',
      'outer end Jobs.slow ok at 100',
    ]);
    // The job's failure counts once, as without observers.
    expect(stats).toMatchObject({ runs: 1, failedRuns: 1, callbackErrors: 0 });
  });

  it('runs the job exactly once whatever an observer does, and counts the observer failures', async () => {
    const clock = new ManualClock();
    const stats = zeroCounters();
    const lines = new Lines();
    let runs = 0;
    const observers: RunObserver[] = [
      () => {
        throw new Error('threw before proceeding');
      },
      () => Promise.reject(new Error('rejected before proceeding')),
      () => undefined, // never proceeds
      (_run, proceed) => void proceed().then(() => proceed()), // proceeds twice
      async (_run, proceed) => {
        await sleepOn(clock, 10); // proceeds after an await of its own
        await proceed();
        throw new Error('threw after proceeding');
      },
    ];
    for (const observer of observers) {
      const runner = new JobRunner(
        [{ id: 'job', run: () => void runs++ }],
        stats,
        lines,
        clock,
        new Set([observer]),
      );
      const run = runner.start(context());
      await clock.advance(10);
      await run;
      await clock.advance(0);
      expect(runner.idle).toBe(true);
    }
    expect(runs).toBe(observers.length);
    expect(stats.callbackErrors).toBe(3);
    expect(lines.at('error')).toEqual([
      'Election "job": a run observer failed: threw before proceeding',
      'Election "job": a run observer failed: rejected before proceeding',
      'Election "job": a run observer failed: threw after proceeding',
    ]);
  });
});
