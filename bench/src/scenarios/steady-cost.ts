import { epochNow } from '#tools/clock.js';
import { sleep } from '#tools/wait.js';
import type { RedisServer } from '#tools/redis-server.js';
import type { Cluster } from '../cluster/cluster.js';
import { load, type RedisLoad, snapshot } from '../infra/command-stats.js';
import { type Mastership, mastership, overlap } from '../analysis/mastership.js';
import type { NodeStats } from '../nodes/protocol.js';

export interface NodeCost {
  node: string;
  /** Commands this node sent (round trips), per second. */
  sentPerSecond: number;
  /** Bytes to and from Redis, per second. */
  bytesPerSecond: number;
  /** Of one core. */
  cpuPercent: number;
  rssMb: number;
  eld: NodeStats['eld'];
  /** Runs of all its elections, per second. */
  runsPerSecond: number;
  /** Elections it led at the end of the window. */
  leading: number;
  /** Of the intervals its elections had in the window, the share they skipped (see NodeStats.missed). */
  missedShare: number;
  /** Runs that repeated an election within half an interval, in the window. */
  repeats: number;
  /** Elections that had not run for two intervals (or never) at the end of the window. */
  stale: number;
}

export interface SteadyCost {
  nodes: number;
  elections: number;
  seconds: number;
  /** Round trips per node per second, averaged over the nodes (counting proxies). */
  sentPerNodePerSecond: number;
  /** Commands Redis executed per node per second, scripts' inner calls included (INFO commandstats). */
  executedPerNodePerSecond: number;
  redis: RedisLoad;
  perNode: NodeCost[];
  /** The node that ran election 0 in the window (the master, where there is one). */
  runner?: NodeCost;
  /** The busiest of the other nodes, by commands sent. */
  follower?: NodeCost;
  runsPerSecond: number;
  expectedRunsPerSecond: number;
  /**
   * All nodes' skipped intervals over all elections' intervals in the window. Each node judges its
   * own runs, so this holds while every election runs on one node (a steady leader); where nodes
   * take turns, a turn sat out counts as skipped.
   */
  missedShare?: number;
  /** Elections that no node ran in the last two intervals of the window. */
  stuck?: number;
  /** Whether each election had one master through the window, where the nodes say whom they lead. */
  mastership?: Mastership;
}

/** Redis's and the nodes' counters over `windowMs` of steady state, no fault injected. */
export async function measureSteady(
  cluster: Cluster,
  redis: RedisServer,
  windowMs: number,
): Promise<SteadyCost> {
  const nodes = cluster.live();
  const statsBefore = await Promise.all(nodes.map((node) => node.stats()));
  const trafficBefore = cluster.traffic();
  const redisBefore = await snapshot(redis.admin);
  const from = epochNow();
  await sleep(windowMs);
  const redisAfter = await snapshot(redis.admin);
  const trafficAfter = cluster.traffic();
  const statsAfter = await Promise.all(nodes.map((node) => node.stats()));
  const redisLoad = load(redisBefore, redisAfter);
  const { elections, interval } = cluster.settings;
  const seconds = redisLoad.seconds;

  const perNode: NodeCost[] = nodes.map((node, i) => {
    const sent =
      (trafficAfter.get(node.id)?.commands ?? 0) - (trafficBefore.get(node.id)?.commands ?? 0);
    const bytes = (t?: { bytesSent: number; bytesReceived: number }) =>
      t ? t.bytesSent + t.bytesReceived : 0;
    const before = statsBefore[i];
    const after = statsAfter[i];
    // A busy node answers late: its own clock says over how long its counters moved.
    const own = before && after ? (after.t - before.t) / 1000 : NaN;
    return {
      node: node.id,
      sentPerSecond: sent / seconds,
      bytesPerSecond:
        (bytes(trafficAfter.get(node.id)) - bytes(trafficBefore.get(node.id))) / seconds,
      cpuPercent: before && after ? (after.cpuUs - before.cpuUs) / 10_000 / own : NaN,
      rssMb: after ? after.rss / 2 ** 20 : NaN,
      eld: after?.eld ?? { p50: NaN, p99: NaN, max: NaN },
      runsPerSecond: before && after ? (after.runs - before.runs) / own : NaN,
      leading: after?.leading ?? NaN,
      missedShare:
        before && after
          ? (after.missed - before.missed) / ((cluster.settings.elections * own * 1000) / interval)
          : NaN,
      repeats: before && after ? after.repeats - before.repeats : NaN,
      stale: after?.stale ?? NaN,
    };
  });
  const runsOf = new Map<string, number>();
  for (const run of cluster.runs) {
    if (run.t >= from) runsOf.set(run.node, (runsOf.get(run.node) ?? 0) + 1);
  }
  const byRuns = [...perNode].sort((a, b) => (runsOf.get(b.node) ?? 0) - (runsOf.get(a.node) ?? 0));
  const runner = runsOf.size > 0 ? byRuns[0] : undefined;
  const others = perNode.filter((node) => node !== runner);
  const follower = others.sort((a, b) => b.sentPerSecond - a.sentPerSecond)[0];
  const totalSent = perNode.reduce((sum, node) => sum + node.sentPerSecond, 0);
  const answered = statsAfter.every((stats) => stats?.recentBits !== undefined);
  const missed = statsAfter.reduce(
    (sum, stats, i) => sum + (stats?.missed ?? NaN) - (statsBefore[i]?.missed ?? NaN),
    0,
  );
  return {
    nodes: nodes.length,
    elections,
    seconds,
    sentPerNodePerSecond: totalSent / nodes.length,
    executedPerNodePerSecond: redisLoad.executedPerSecond / nodes.length,
    redis: redisLoad,
    perNode,
    runner,
    follower,
    runsPerSecond: perNode.reduce((sum, node) => sum + node.runsPerSecond, 0),
    expectedRunsPerSecond: (elections * 1000) / interval,
    missedShare: missed / ((elections * seconds * 1000) / interval),
    stuck: answered
      ? overlap(
          statsAfter.map((stats) => stats!.recentBits),
          elections,
        ).none
      : undefined,
    mastership: mastership(statsBefore, statsAfter, elections),
  };
}
