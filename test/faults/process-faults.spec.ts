import { afterEach, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '#tools/wait.js';
import { monotonicNow } from '#tools/clock.js';
import { type ClusterSettings, FaultCluster } from './cluster.js';
import { checkInvariants } from './invariants.js';

const INTERVAL = 300;
const LEASE = 1500;
const RETRY = LEASE / 3;

/** Faults of the master's process: killed, stopped, frozen, blocked. Nodes are separate processes. */
describe('process faults', () => {
  let cluster: FaultCluster;
  afterEach(() => cluster?.close());

  async function start(overrides: Partial<ClusterSettings> = {}): Promise<void> {
    cluster = await FaultCluster.onNewRedis({ intervalMs: INTERVAL, leaseMs: LEASE, ...overrides });
  }

  /** Every invariant, and every node closes and exits by itself (no leaked timer or connection). */
  async function expectSafe() {
    const exits = await cluster.stop();
    // What escaped, by name, so that a failure shows where it came from.
    expect(
      cluster.events.filter((e) => e.ev === 'unhandled').map((e) => `${e.node}: ${e.error}`),
    ).toEqual([]);
    const report = checkInvariants(cluster.events);
    if (process.env.FAULTS_DEBUG) console.log(cluster.timeline());
    expect(report).toMatchObject({
      doubleMasters: 0,
      termRegressions: 0,
      staleWritesAccepted: 0,
      unhandledRejections: 0,
    });
    expect(exits.filter((exit) => !exit.exitedAlone)).toEqual([]);
    expect(
      cluster.events.filter((e) => e.ev === 'exit' && e.code !== 0 && e.signal !== 'SIGKILL'),
    ).toEqual([]);
    return report;
  }

  const runsOf = (node: string, after = 0) =>
    cluster.events.filter((e) => e.ev === 'start' && e.node === node && e.t > after);

  it('SIGKILL of the master: another node runs the job within the lease plus one retry period', async () => {
    await start();
    await cluster.start(['a', 'b', 'c']);
    const master = await waitFor(() => cluster.master(), 'a master');
    await waitFor(() => runsOf(master).length >= 2, 'runs');
    const killedAt = monotonicNow();
    cluster.signal(master, 'SIGKILL');
    const next = await cluster.nextMaster(killedAt, master, LEASE * 3);
    expect(next.t - killedAt).toBeLessThan(LEASE + RETRY);
    await waitFor(() => runsOf(next.node, killedAt).length >= 2, 'runs on the new master');
    await expectSafe();
  });

  it('SIGTERM of the master: released on close, taken over in well under a second, no run repeated', async () => {
    await start();
    await cluster.start(['a', 'b', 'c']);
    const master = await waitFor(() => cluster.master(), 'a master');
    await waitFor(() => runsOf(master).length >= 2, 'runs');
    const stoppedAt = monotonicNow();
    cluster.signal(master, 'SIGTERM');
    const next = await cluster.nextMaster(stoppedAt, master, LEASE * 3);
    expect(next.t - stoppedAt).toBeLessThan(1000);
    await waitFor(() => runsOf(next.node, stoppedAt).length >= 1, 'a run on the new master');
    const lastOld = runsOf(master).at(-1)!;
    const firstNew = runsOf(next.node, stoppedAt)[0];
    expect(firstNew.t - lastOld.t).toBeGreaterThan(INTERVAL / 2);
    await waitFor(() => cluster.has(master, 'exit'), 'the old master to exit by itself', 8000);
    await expectSafe();
  });

  it('SIGSTOP of the master past its lease: its frozen run is fenced and aborted, and it runs no more', async () => {
    await start();
    // The first master's run outlasts its lease; the others' runs are quick.
    await cluster.start(['slow'], { RUN_MS: String(LEASE * 2) });
    await waitFor(() => cluster.master() === 'slow', 'the slow node to lead');
    await cluster.start(['b', 'c']);
    await waitFor(() => runsOf('slow').length >= 1, 'a run on the slow node');
    const frozenAt = monotonicNow();
    cluster.signal('slow', 'SIGSTOP');
    const next = await cluster.nextMaster(frozenAt, 'slow', LEASE * 3);
    await waitFor(
      () => cluster.events.some((e) => e.ev === 'write' && e.node === next.node && e.accepted),
      'a write by the new master',
    );
    await sleep(Math.max(0, frozenAt + LEASE * 2 - monotonicNow()));
    const thawedAt = monotonicNow();
    cluster.signal('slow', 'SIGCONT');
    await waitFor(() => cluster.has('slow', 'end', thawedAt), 'the frozen run to end');

    const ended = cluster.events.find(
      (e) => e.node === 'slow' && e.ev === 'end' && e.t > thawedAt,
    )!;
    const write = cluster.events.find(
      (e) => e.node === 'slow' && e.ev === 'write' && e.t > thawedAt,
    )!;
    expect(ended.aborted).toBe(true);
    expect(write.accepted).toBe(false);
    const revoked = cluster.events.find((e) => e.node === 'slow' && e.ev === 'revoked')!;
    expect(revoked.reason).toBe('expired');
    await sleep(INTERVAL * 3);
    // No run after waking unless it won again.
    const reElected = cluster.events.find(
      (e) => e.node === 'slow' && e.ev === 'elected' && e.t > thawedAt,
    );
    const lateRuns = runsOf('slow', thawedAt).filter((e) => !reElected || e.t < reElected.t);
    expect(lateRuns).toEqual([]);
    const report = await expectSafe();
    expect(report.coveredOverlaps).toBeGreaterThanOrEqual(1);
    expect(report.staleWritesRefused).toBeGreaterThanOrEqual(1);
  });

  it('SIGSTOP of a master mid-run: on waking, its lease check says lost before any timer fires, and its write is not sent', async () => {
    await start();
    await cluster.start(['a'], { SPIN_MS: String(LEASE * 10) });
    await waitFor(() => cluster.master() === 'a', 'a to lead');
    await cluster.start(['b', 'c']);
    await waitFor(() => runsOf('a').length >= 1, 'a run on a');
    // The next run of a checks ctx.leaseValid() in a loop that never yields; freeze it there.
    const armedAt = monotonicNow();
    cluster.signal('a', 'SIGUSR1');
    await waitFor(() => cluster.has('a', 'spin', armedAt), 'a to spin', LEASE * 4);
    const frozenAt = monotonicNow();
    cluster.signal('a', 'SIGSTOP');
    const next = await cluster.nextMaster(frozenAt, 'a', LEASE * 3);
    await waitFor(
      () => cluster.events.some((e) => e.ev === 'write' && e.node === next.node && e.accepted),
      'a write by the new master',
    );
    await sleep(Math.max(0, frozenAt + LEASE * 2 - monotonicNow()));
    const thawedAt = monotonicNow();
    cluster.signal('a', 'SIGCONT');
    // A SIGSTOP that landed after the spin had ended (a late one, on a busy machine) leaves no
    // pass after the thaw: fail saying so rather than on a missing event.
    await waitFor(
      () => cluster.has('a', 'spun', thawedAt),
      'a pass of the spin after the thaw (there is none if SIGSTOP landed after the spin ended)',
    );
    await waitFor(() => cluster.has('a', 'end', thawedAt), 'the frozen run to end');

    const after = (ev: string) =>
      cluster.events.find((e) => e.node === 'a' && e.ev === ev && e.t > thawedAt)!;
    const spun = after('spun');
    // The freeze fell between two passes of the loop; the first pass after it saw the lease
    // over, while the signal, which only a timer aborts, had not aborted yet.
    expect(spun.gapMs).toBeGreaterThan(LEASE);
    expect(spun).toMatchObject({ valid: false, aborted: false });
    expect(after('write').accepted).toBe(false);
    const revoked = after('revoked');
    expect(revoked.reason).toBe('expired');
    expect(revoked.t).toBeGreaterThan(spun.t);
    expect(after('end').aborted).toBe(true);
    const report = await expectSafe();
    expect(report.coveredOverlaps).toBeGreaterThanOrEqual(1);
  });

  it('a master whose event loop is blocked past its lease steps down when it wakes, and starts no run', async () => {
    await start();
    await cluster.start(['a'], { BLOCK_MS: String(LEASE * 2) });
    await waitFor(() => cluster.master() === 'a', 'a to lead');
    await cluster.start(['b', 'c']);
    await waitFor(() => runsOf('a').length >= 1, 'a run');
    const blockedAt = monotonicNow();
    cluster.signal('a', 'SIGUSR2');
    const next = await cluster.nextMaster(blockedAt, 'a', LEASE * 3);
    expect(next.t - blockedAt).toBeLessThan(LEASE + RETRY);
    const unblocked = await waitFor(
      () => cluster.events.find((e) => e.node === 'a' && e.ev === 'unblock'),
      'a to unblock',
      LEASE * 4,
    );
    await waitFor(() => cluster.has('a', 'revoked', blockedAt), 'a to step down');
    await sleep(INTERVAL * 3);
    const reElected = cluster.events.find(
      (e) => e.node === 'a' && e.ev === 'elected' && e.t > unblocked.t,
    );
    expect(runsOf('a', unblocked.t).filter((e) => !reElected || e.t < reElected.t)).toEqual([]);
    expect(cluster.master()).toBe(next.node);
    await expectSafe();
  });
});
