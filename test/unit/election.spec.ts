import { describe, expect, it } from 'vitest';
import { LeadershipEndedError } from '../../lib/core/errors.js';
import type { ElectionPhase } from '../../lib/core/election/election.js';
import { electionTiming } from '../../lib/core/election/timing.js';
import { ShutdownDeadline } from '../../lib/core/utils/promise-timeout.js';
import { Rig } from './election-rig.js';
import { ManualClock, sleepOn } from './manual-clock.js';

const INTERVAL = 100;
const LEASE = 1500;
const { renewEvery, renewDeadline, retryEvery, safetyMargin } = electionTiming(INTERVAL, LEASE);
const INTERVAL_900 = 900;

describe('Election on a controlled clock: phases', () => {
  it('goes idle, follower, acquiring, master; the other node stays a follower', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    const a = rig.node({}, false);
    const b = rig.node({}, false);
    for (const node of [a, b]) node.link.delayMs = 10;
    expect(a.election.phase).toBe('idle');
    a.election.start();
    expect(a.election.phase).toBe('follower');
    await clock.advance(5);
    expect(a.election.phase).toBe('acquiring');
    expect(a.election.isMaster).toBe(false);
    await clock.advance(15);
    expect(a.election.phase).toBe('master');
    expect(a.election.isMaster).toBe(true);
    b.election.start();
    await clock.advance(5);
    expect(b.election.phase).toBe('acquiring');
    await clock.advance(20);
    // Told "held": it looks again as the lease would end unrenewed.
    expect(b.election.phase).toBe('follower');
    await clock.advance(5 * LEASE);
    expect(rig.master()).toBe(a);
    expect(b.election.phase).toBe('follower');
    expect(b.election.term).toBeUndefined();
    await rig.stopAll();
    expect([a.election.phase, b.election.phase]).toEqual(['stopped', 'stopped']);
  });

  it('runs the job once per interval, on the grid of the store, on the master only', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    const [a, b] = [rig.node(), rig.node()];
    await clock.advance(2000);
    const master = rig.master()!;
    expect([a, b]).toContain(master);
    const slots = rig.runs.map((run) => run.slot);
    expect(new Set(rig.runs.map((run) => run.nodeId))).toEqual(new Set([master.id]));
    expect(slots.slice(1).map((slot, i) => slot - slots[i])).toEqual(
      slots.slice(1).map(() => INTERVAL),
    );
    expect(slots.length).toBeGreaterThanOrEqual(2000 / INTERVAL);
    expect(slots.length).toBeLessThanOrEqual(2000 / INTERVAL + 1);
    // A claim renews the lease too: no renewal of its own goes out while the claims do.
    expect(master.link.sentOf('renew')).toEqual([]);
    await rig.stopAll();
  });

  it('leaves no timer behind once stopped, whatever phase the stop finds', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    const phases: ElectionPhase[] = [];
    const a = rig.node({ runMs: 250 });
    const b = rig.node();
    b.link.delayMs = 30;
    await clock.advance(1000);
    phases.push(a.election.phase, b.election.phase);
    await rig.stopAll();
    expect(phases).toEqual(['master', 'follower']);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('Election on a controlled clock: the renew deadline', () => {
  it('steps down at the deadline of the last renewal it sent when no answer comes, before the lease can end in the store', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    const a = rig.node({ runMs: 60_000 });
    await clock.advanceUntil(() => rig.runs[0], 'a run on the first master');
    const b = rig.node();
    await clock.advance(3 * renewEvery);
    expect(rig.master()).toBe(a);

    // The link is cut: commands leave, nothing comes back.
    a.link.cut = true;
    const cutAt = clock.now();
    const stepsDownAt = cutAt + a.election.leaseLeft;
    // Still master up to its deadline, with the run going.
    await clock.advance(stepsDownAt - clock.now() - 1);
    expect(a.election.isMaster).toBe(true);
    expect(rig.abortedAtOf(rig.runs[0])).toBeUndefined();
    await clock.advance(1);
    expect(a.election.isMaster).toBe(false);
    const stepDown = rig.changes.find((c) => c.nodeId === a.id && !c.isMaster)!;
    expect(stepDown).toMatchObject({ reason: 'expired', at: stepsDownAt });
    expect(rig.abortedAtOf(rig.runs[0])).toBe(stepsDownAt);
    expect(rig.runs[0].context.signal.reason).toEqual(new LeadershipEndedError('expired'));
    // Renewals went out every renewal period, then every half period once they failed.
    const lastSent = a.link.sent.filter((s) => s.at < cutAt && s.command !== 'release').at(-1)!;
    // The deadline: a fifth of the lease short of it, from when the last renewal left.
    expect(stepsDownAt).toBe(lastSent.at + LEASE - LEASE / 5);

    // The other node takes over once the lease has ended in the store: the whole TTL after the
    // last command that reached it.
    await clock.advanceUntil(() => b.election.isMaster, 'b to take over', 2 * LEASE);
    const takeOver = rig.changes.find((c) => c.nodeId === b.id && c.isMaster)!;
    expect(takeOver.at).toBeGreaterThanOrEqual(lastSent.at + LEASE);
    expect(takeOver.at - stepDown.at).toBeGreaterThanOrEqual(LEASE / 5);
    expect(takeOver.term).toBeGreaterThan(stepDown.term);
    // Heard by the next poll: at the lease's end, plus a few ms.
    expect(takeOver.at - (lastSent.at + LEASE)).toBeLessThan(20);

    // Healed: it follows, and one master stays.
    a.link.cut = false;
    await clock.advance(3 * LEASE);
    expect(rig.master()).toBe(b);
    await rig.stopAll();
  });

  it.each([
    { schedule: 'an interval', options: {}, claim: 'claimRun', period: INTERVAL },
    {
      schedule: 'a cron schedule',
      options: { cron: '* * * * * *' },
      claim: 'claimSlot',
      period: 1000,
    },
  ])(
    "on $schedule, a leadership won while the last one's claim is still out ticks once that claim is answered",
    async ({ options, claim, period }) => {
      const clock = new ManualClock();
      const rig = new Rig(clock);
      // A long lease: the claim may stay out for seconds, and the node wins the lease again sooner.
      const a = rig.node({ ...options, leaseTtl: 6000 });
      await clock.advanceUntil(() => rig.runs.length >= 2, 'two runs');
      a.link.holdAnswers(claim);
      await clock.advanceUntil(() => a.link.heldAnswers > 0, 'a claim on its way', 2 * period);
      // The lease is freed under it (an operator's DEL): its next renewal finds it gone.
      const { name } = a.election;
      expect(await rig.store.release(name, a.link.leases.get(name)!)).toBe(true);
      const first = rig.changes.find((c) => c.nodeId === a.id && c.isMaster)!;
      const second = () => rig.changes.find((c) => c.isMaster && c.term > first.term);
      await clock.advanceUntil(second, 'a second leadership', 6000);
      // Its first tick finds the old claim still out...
      await clock.advance(period / 2);
      expect(a.link.heldAnswers).toBe(1);
      expect(rig.runs.filter((run) => run.term === second()!.term)).toEqual([]);
      const runsBefore = rig.runs.length;
      a.link.deliver();
      // ...and it ticks once that one is answered, not never.
      await clock.advanceUntil(() => rig.runs.length > runsBefore, 'a run', 3 * period);
      expect(rig.runs.at(-1)!.term).toBe(second()!.term);
      await rig.stopAll();
    },
  );

  it('keeps the lease through slow renewals, each measured from when it was sent', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    const a = rig.node({ interval: 60_000 });
    await clock.advanceUntil(() => a.election.isMaster, 'a master');
    // Answered within the renewal period they are given: nearly all of it, each way half.
    a.link.delayMs = renewEvery / 2 - 10;
    await clock.advance(5 * LEASE);
    expect(a.election.isMaster).toBe(true);
    expect(rig.changes.filter((c) => !c.isMaster)).toEqual([]);
    expect(a.election.stats.storeErrors).toBe(0);
    const roundTrip = 2 * a.link.delayMs;
    const answered = a.link.sentOf('renew').filter((sent) => sent.at + roundTrip <= clock.now());
    expect(a.election.leaseLeft).toBe(answered.at(-1)!.at + renewDeadline - clock.now());
    await rig.stopAll();
  });
});

describe('Election on a controlled clock: ticks and claims', () => {
  it('never overlaps runs: a tick while the run is going is skipped and counted', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    const a = rig.node({ interval: 50, runMs: 180 });
    await clock.advance(2000);
    expect(rig.runs.length).toBeGreaterThanOrEqual(5);
    for (let i = 1; i < rig.runs.length; i++)
      expect(rig.runs[i].start).toBeGreaterThanOrEqual(rig.runs[i - 1].end!);
    expect(a.election.stats.skippedTicks).toBeGreaterThan(0);
    await rig.stopAll();
  });

  it('claims nothing with less than the safety margin of lease left: it renews first, and claims once the renewal lands', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    const a = rig.node({ interval: 900 });
    await clock.advanceUntil(() => rig.runs.length >= 2, 'two runs');
    const lastClaim = a.link.sentOf('claimRun').at(-1)!;
    // The renewal after that claim gets no answer; the link is back just before the next tick,
    // which then finds less than the margin of the lease left.
    a.link.cut = true;
    await clock.advance(lastClaim.at + INTERVAL_900 - 1 - clock.now());
    a.link.cut = false;
    const healedAt = clock.now();
    expect(a.election.leaseLeft).toBeLessThan(safetyMargin);
    await clock.advance(1);
    const after = a.link.sent.filter((sent) => sent.at >= healedAt);
    expect(after.map((sent) => sent.command)).toEqual(['renew', 'claimRun']);
    expect(rig.runs.length).toBe(3);
    expect(a.election.isMaster).toBe(true);
    await rig.stopAll();
  });

  it('does not start the run of a slot whose claim was answered with too little lease left; the slot stays claimed', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    // A tick just after each renewal: the claim leaves with a fresh lease, and may take long.
    const interval = 1001;
    const a = rig.node({ interval });
    await clock.advanceUntil(() => rig.runs.length >= 2, 'two runs');
    await a.holdNextClaim();
    const claim = a.link.sentOf('claimRun').at(-1)!;
    // Answered just after the margin of its lease is gone.
    await clock.advance(claim.at + renewDeadline - safetyMargin + 1 - clock.now());
    a.link.deliver();
    await clock.advance(0);
    expect(rig.runs.length).toBe(2);
    expect(a.election.isMaster).toBe(true);
    expect(a.election.stats.storeErrors).toBe(0);
    // That slot was marked in the store: the next run is the one after it.
    await clock.advanceUntil(() => rig.runs.length >= 3, 'the next run', 3 * interval);
    expect(rig.runs[2].slot).toBe(rig.runs[1].slot + 2 * interval);
    await rig.stopAll();
  });
});

/** A master (`a`) whose job takes `runMs`, two runs in, the answer to its next claim held back. */
async function masterWithClaimInFlight(runMs: number) {
  const clock = new ManualClock();
  const rig = new Rig(clock);
  const a = rig.node({ runMs });
  await clock.advanceUntil(() => rig.runs.length >= 2, 'runs on a');
  const b = rig.node();
  await a.holdNextClaim();
  return { clock, rig, a, b };
}

describe('Election on a controlled clock: resign and stop', () => {
  it('resign() during a run: the run ends first, its signal aborted; no run starts meanwhile; then the other node takes over at once', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    const RUN_MS = 600;
    // A job that outlasts the interval and does not watch its signal.
    const a = rig.node({ runMs: RUN_MS });
    const first = await clock.advanceUntil(() => rig.runs[0], 'a run on a');
    const b = rig.node();
    await clock.advance(INTERVAL);
    const resignedAt = clock.now();
    let resolvedAt: number | undefined;
    void a.election.resign(5000).then(() => (resolvedAt = clock.now()));
    expect(a.election.phase).toBe('draining');
    await clock.advance(0);
    // Asked to end at once, and master until it has.
    expect(rig.abortedAtOf(first)).toBe(resignedAt);
    expect(first.context.signal.reason).toEqual(new LeadershipEndedError('resigned'));
    await clock.advance(first.start + RUN_MS - clock.now() - 1);
    expect(a.election.isMaster).toBe(true);
    expect(resolvedAt).toBeUndefined();
    await clock.advanceUntil(() => resolvedAt, 'resign() to resolve', 10);
    expect(resolvedAt).toBe(first.end);
    expect(a.election.phase).toBe('follower');
    expect(rig.changes.find((c) => c.nodeId === a.id && !c.isMaster)).toMatchObject({
      reason: 'resigned',
      at: first.end,
    });
    // The release is announced: the other node takes over at once, and runs after the run ended.
    expect(b.election.isMaster).toBe(true);
    const next = await clock.advanceUntil(() => rig.runsOf(b)[0], 'a run on b', 2 * INTERVAL);
    expect(next.start).toBeGreaterThanOrEqual(first.end!);
    expect(rig.runsOf(a)).toEqual([first]);
    // The resigned node lets the others have the lease for a retry period before it asks again.
    await clock.advance(2 * retryEvery);
    const asked = a.link.sentOf('acquire').filter((sent) => sent.at > resignedAt);
    expect(asked.length).toBeGreaterThan(0);
    for (const sent of asked) expect(sent.at).toBeGreaterThanOrEqual(first.end! + retryEvery);
    expect(rig.master()).toBe(b);
    await rig.stopAll();
  });

  it('stop() during a claim: the slot it wins runs and ends before the lease is released; the next node runs the next slot', async () => {
    const { clock, rig, a, b } = await masterWithClaimInFlight(50);
    const runsBefore = rig.runs.length;
    const stopAt = clock.now();
    const stopping = a.stop();
    expect(a.election.phase).toBe('draining');
    await clock.advance(30);
    expect(rig.runs.length).toBe(runsBefore);
    expect(a.election.isMaster).toBe(true);
    a.link.deliver();
    await clock.advanceUntil(() => a.stopped, 'the stop to end', 1000);
    await stopping;
    expect(a.election.phase).toBe('stopped');
    const won = rig.runs.at(-1)!;
    expect(rig.runs.length).toBe(runsBefore + 1);
    expect(won).toMatchObject({ nodeId: a.id, start: stopAt + 30 });
    // It ran to its end within the drain, then the lease went.
    const release = a.link.sentOf('release').at(-1)!;
    expect(release.at).toBeGreaterThanOrEqual(won.end!);
    expect(rig.changes.find((c) => c.nodeId === a.id && !c.isMaster)?.reason).toBe('shutdown');
    const next = await clock.advanceUntil(() => rig.runsOf(b)[0], 'a run on b', 2 * INTERVAL);
    expect(next.slot).toBe(won.slot + INTERVAL);
    expect(next.start).toBeGreaterThanOrEqual(won.end!);
    await rig.stopAll();
  });

  it('stop() during a claim, with a run longer than the stop: the slot it wins runs unaborted for three quarters of what is left', async () => {
    const { clock, rig, a } = await masterWithClaimInFlight(10);
    const timeoutMs = 1000;
    const stopAt = clock.now();
    const stopping = a.stop(timeoutMs);
    // The stop's own deadline, twin of the one a.stop() made: what it leaves for the runs.
    const twin = new ShutdownDeadline(timeoutMs, clock);
    await clock.advance(30);
    const left = twin.forWaits;
    // The run of the slot it wins ignores its signal and outlasts the stop.
    a.runMs = 10 * timeoutMs;
    a.link.deliver();
    await clock.advanceUntil(() => a.stopped, 'the stop to end', 2 * timeoutMs);
    await stopping;
    const won = rig.runsOf(a).at(-1)!;
    expect(won.start).toBe(stopAt + 30);
    // A job that checks its signal could skip a slot it won while stopping: the signal waits
    // until only a quarter of the stop's time is left, then gives it that quarter to finish.
    expect(rig.abortedAtOf(won)).toBeCloseTo(won.start + 0.75 * left, 0);
    const release = a.link.sentOf('release').at(-1)!;
    expect(release.at).toBeCloseTo(won.start + left, 0);
    expect(release.at).toBeLessThan(stopAt + timeoutMs);
    expect(a.lines.at('warn').join('\n')).toMatch(
      /a run did not finish within 1000 ms of shutdown/,
    );
    await rig.stopAll();
  });

  it('resign() during a claim: the slot it wins runs before the lease goes', async () => {
    const { clock, rig, a, b } = await masterWithClaimInFlight(50);
    let resolvedAt: number | undefined;
    void a.election.resign(5000).then(() => (resolvedAt = clock.now()));
    await clock.advance(30);
    a.link.deliver();
    await clock.advanceUntil(() => resolvedAt, 'resign() to resolve', 1000);
    const won = rig.runs.at(-1)!;
    expect(won.nodeId).toBe(a.id);
    expect(resolvedAt).toBe(won.end);
    const next = await clock.advanceUntil(() => rig.runsOf(b)[0], 'a run on b', 2 * INTERVAL);
    expect(next.slot).toBe(won.slot + INTERVAL);
    await rig.stopAll();
  });

  it('hands over on stop() without repeating or skipping a slot, whichever phase of the tick the stop lands in', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    const interval = 1000;
    const delay = 40; // each way: a claim is in flight for 80 ms
    const node = () => {
      const created = rig.node({ interval, leaseTtl: 3000, runMs: 100 });
      created.link.delayMs = delay;
      return created;
    };
    // Stops spread over the interval (in a run, between runs, as the next claim goes out), and
    // more where the claim is in flight: it leaves about an interval after the last run started.
    const offsets = [
      ...Array.from({ length: 8 }, (_, i) => (i * interval) / 8),
      ...[-3, -2, -1, 0, 1].map((i) => interval - delay + i * (delay / 2)),
    ];
    let master = node();
    await clock.advanceUntil(() => master.election.isMaster, 'a first master');
    for (const offset of offsets) {
      const follower = node();
      const before = rig.runs.length;
      const last = await clock.advanceUntil(
        () => rig.runs.slice(before).find((run) => run.nodeId === master.id),
        'a run on the master',
        3 * interval,
      );
      await clock.advance(Math.max(0, last.start + offset - clock.now()));
      const stopping = master.stop();
      await clock.advanceUntil(() => master.stopped, 'the stop', 5000);
      await stopping;
      master = follower;
      await clock.advanceUntil(() => master.election.isMaster, 'the follower to take over', 500);
    }
    const before = rig.runs.length;
    await clock.advanceUntil(
      () => rig.runs.slice(before).filter((run) => run.nodeId === master.id).length >= 2,
      'runs on the last master',
      3 * interval,
    );
    const slots = rig.runs.map((run) => run.slot);
    expect(new Set(slots).size).toBe(slots.length);
    expect(slots.slice(1).map((slot, i) => slot - slots[i])).toEqual(
      slots.slice(1).map(() => interval),
    );
    expect(new Set(rig.runs.map((run) => run.nodeId)).size).toBe(offsets.length + 1);
    await rig.stopAll();
  });

  it('stop() during an acquire: a lease it wins is given straight back, and the node never leads', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    const a = rig.node({}, false);
    a.link.holdAnswers('acquire');
    a.election.start();
    await clock.advanceUntil(() => a.link.heldAnswers > 0, 'an acquire on its way');
    expect(a.election.phase).toBe('acquiring');
    const stopping = a.stop();
    expect(a.election.phase).toBe('stopping');
    expect(await rig.store.holder(rig.name)).toBe(a.id);
    a.link.deliver();
    await clock.advanceUntil(() => a.stopped, 'the stop');
    await stopping;
    expect(await rig.store.holder(rig.name)).toBeNull();
    expect(rig.changes).toEqual([]);
    expect(a.election.stats.elected).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });
});

describe('Election on a controlled clock: releases heard', () => {
  it('a release heard while its acquire is on the way: told "held", it tries again at once, not when the old lease would end', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    const a = rig.node();
    await clock.advanceUntil(() => a.election.isMaster, 'a to lead');
    const b = rig.node({}, false);
    b.link.holdAnswers('acquire');
    b.election.start();
    await clock.advanceUntil(() => b.link.heldAnswers > 0, "b's acquire on its way");
    // The store answered "held" already; the release reaches b before that answer does.
    await a.election.resign(5000);
    const releasedAt = clock.now();
    // The memory store announces a release on the next turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    expect(b.election.phase).toBe('acquiring');
    b.link.deliver();
    await clock.advanceUntil(() => b.election.isMaster, 'b to lead', 5 * LEASE);
    expect(clock.now() - releasedAt).toBeLessThan(retryEvery);
    expect(b.link.sentOf('acquire')).toHaveLength(2);
    await rig.stopAll();
  });
});

describe('Election on a controlled clock: leadership hooks and the context', () => {
  it('starts the first run once the @OnElected handlers returned, and after one lease at most if they hang, renewing meanwhile', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    const a = rig.node({
      onElected: [{ id: 'Feed.open', run: () => new Promise<void>(() => undefined) }],
    });
    await clock.advanceUntil(() => a.election.isMaster, 'a master');
    const electedAt = rig.changes[0].at;
    await clock.advance(electedAt + LEASE - 1 - clock.now());
    expect(rig.runs).toEqual([]);
    expect(a.link.sentOf('renew').length).toBeGreaterThanOrEqual(2);
    await clock.advance(1);
    expect(rig.runs).toHaveLength(1);
    expect(rig.runs[0].start).toBe(electedAt + LEASE);
    expect(a.election.stats).toMatchObject({ elected: 1, revoked: 0 });
    expect(a.lines.at('warn')).toEqual([
      `Election "job": the @OnElected handlers did not finish within ${LEASE} ms; the master jobs start anyway`,
    ]);
    await rig.stopAll();
  });

  it('runs @OnRevoked after the @OnElected of the same leadership returned, even when it ended first', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    const events: string[] = [];
    const a = rig.node({
      jobs: [],
      onElected: [
        {
          id: 'Stream.open',
          run: async () => {
            events.push('open:start');
            await sleepOn(clock, 300);
            events.push('open:end');
          },
        },
      ],
      onRevoked: [{ id: 'Stream.close', run: () => void events.push('close') }],
    });
    await clock.advanceUntil(() => events.length > 0, '@OnElected');
    await a.election.resign(1000);
    expect(a.election.stats.revoked).toBe(1);
    expect(events).toEqual(['open:start']);
    await clock.advance(300);
    expect(events).toEqual(['open:start', 'open:end', 'close']);
    await rig.stopAll();
  });

  it('reads the clock at the call: after a blocked stretch past the deadline, the lease is over before the signal aborts', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock);
    const a = rig.node({ runMs: 60_000 });
    const run = await clock.advanceUntil(() => rig.runs[0], 'a run');
    const { context } = run;
    expect(context.leaseValid()).toBe(true);
    // No timer runs meanwhile: a long synchronous task, a GC pause, a frozen process.
    clock.jump(2 * LEASE);
    expect(context.leaseValid()).toBe(false);
    expect(a.election.isMaster).toBe(false);
    expect(context.signal.aborted).toBe(false);
    expect(() => context.throwIfLost()).toThrow(new LeadershipEndedError('expired'));
    // The first timer that runs ends the leadership.
    await clock.advance(0);
    expect(context.signal.aborted).toBe(true);
    expect(context.signal.reason).toBeInstanceOf(LeadershipEndedError);
    expect(a.election.phase).toBe('follower');
    await rig.stopAll();
  });
});

describe('Election on a controlled clock: cron slots', () => {
  it("runs every slot once and none early, on nodes 2 s apart, across hand-overs: slots are read on the store's clock", async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock, 'report');
    // Every 2 s, as the nodes' clocks are 2 s apart.
    const options = { cron: '*/2 * * * * *', leaseTtl: 3000 };
    for (const wallOffsetMs of [-2000, 0, 2000]) rig.node({ ...options, wallOffsetMs });
    const leaders = new Set<string>();
    for (let round = 0; round < 5; round++) {
      const master = await clock.advanceUntil(() => rig.master(), 'a master', 10_000);
      leaders.add(master.id);
      const count = rig.runs.length;
      await clock.advanceUntil(() => rig.runs.length >= count + 3, 'three runs', 15_000);
      await master.election.resign(5000);
    }
    await clock.advanceUntil(() => rig.runs.length >= 18, 'more runs', 15_000);
    expect(leaders.size).toBeGreaterThanOrEqual(2);
    const slots = rig.runs.map((run) => run.slot);
    // No slot twice, none missed: one run every 2 s from the first to the last...
    expect(slots).toEqual(slots.map((_, i) => slots[0] + i * 2000));
    expect(slots[0] % 2000).toBe(0);
    // ...and none before its slot on the store's clock, whichever node ran it.
    for (const run of rig.runs) expect(run.startOnStoreClock).toBeGreaterThanOrEqual(run.slot);
    expect(new Set(rig.runs.map((run) => run.nodeId)).size).toBeGreaterThanOrEqual(2);
    await rig.stopAll();
  });

  it('runs the slots the store grants, each once, when each claim takes longer than a period to arrive', async () => {
    const clock = new ManualClock();
    const rig = new Rig(clock, 'report');
    const a = rig.node({ cron: '* * * * * *', leaseTtl: 10_000 }, false);
    // 1.1 s each way: every claim reaches the store after the next slot fell due there.
    a.link.delayMs = 1100;
    a.election.start();
    await clock.advanceUntil(() => rig.runs.length >= 4, 'runs through the slow link', 20_000);
    const slots = rig.runs.map((run) => run.slot);
    expect(new Set(slots).size).toBe(slots.length);
    for (const run of rig.runs) expect(run.startOnStoreClock).toBeGreaterThanOrEqual(run.slot);
    await rig.stopAll();
  });
});
