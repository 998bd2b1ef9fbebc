import type { BenchResults } from '../results.js';
import { label } from './format.js';

/** The prose of the report: how each figure was taken. */
export function method(results: BenchResults): string {
  const { interval } = results.config;
  return [
    '- **Nodes.** Each node is a separate Node.js process (`bench/dist/nodes/<peer>.node.js`) running a Nest application context with `app.enableShutdownHooks()`, wired as the peer\u2019s README or the NestJS docs show. The job only records that it ran. A replacement node is a warm spare whose modules are already loaded, so that loading them (a CPU second or more) never overlaps a measured fail-over.',
    '- **Time.** Nodes print JSON lines stamped with `performance.timeOrigin + performance.now()`; the driver stamps its signals the same way. Each process reads the wall clock once, when it starts, and counts on the monotonic clock from there, so stamps from different processes compare to well under a millisecond, and a clock adjustment during the run moves none of them. The limit: a wall-clock step (NTP) between the starts of two processes would offset their stamps by that step.',
    `- **Faults.** The driver waits for a run, then a random time within one interval (${interval} ms), then signals the node that ran the job last. "New leader" is the first \`elected\` event (kettle: \`leadership$\`) from another node; "first run" is another node\u2019s first run record; "gap" is (that first run − the stopped node\u2019s last run) / interval. The stopped node is replaced by a warm spare before the next fault.`,
    '- **Exactly once.** All runs from the start of the steady-state window to the end of the faults, on every node. An interval opens with a run at least 0.75 intervals after the previous opening; runs before the next opening are repeats in the same interval; between two openings g intervals apart, round(g) − 1 intervals had no run. The grid follows the runs, so a cadence that shifts after a fail-over or timer jitter of a few ms is not counted as a miss or a repeat. Where a peer has fencing tokens (kettle\u2019s term), runs are also checked for a term lower than one already seen.',
    '- **Cost.** "Sent" is counted per node by a TCP proxy in front of Redis that parses the node\u2019s RESP requests: round trips, an EVALSHA counting once. "Executed" is the change in `INFO commandstats`, which also counts the calls Lua scripts make (the driver\u2019s own INFO is left out). Redis CPU is the change in `used_cpu_user + used_cpu_sys`. Node CPU is `process.cpuUsage()`, memory is RSS, event-loop delay is `perf_hooks.monitorEventLoopDelay` (10 ms resolution, the resolution subtracted). "Runner" is the node that ran the job during the window.',
    '- **Scale, elections.** N elections in each of 2 processes: kettle with one `@OnMaster` plus `KettleService.join()` for the rest; the leader packages with N instances on one connection and an `@Interval` per election; redlock with N intervals (`SchedulerRegistry.addInterval`); BullMQ with N job schedulers on one queue and its one worker (default concurrency, 1). Only election 0\u2019s runs are printed; the others are counted. How the section\u2019s figures are taken is said under it.',
  ].join('\n');
}

export function limits(results: BenchResults): string {
  const { scaleNodes, scaleElections, peers, crashes, gracefuls } = results.config;
  const left = (included: string[]) => peers.filter((id) => !included.includes(id)).map(label);
  const nodesLeft = left(scaleNodes.peers);
  const electionsLeft = left(scaleElections.peers);
  const lines = [
    '- One machine: Redis and every node talk over loopback, with no network between them. Real deployments add a round trip to every command, and more to every hand-over.',
    '- The job takes no time. A job that runs long changes the picture for the recipes that lock around the job (a lock taken for the job\u2019s duration) and for BullMQ (lock renewals).',
    `- Percentiles are nearest-rank over the samples (${crashes} crashes and ${gracefuls} graceful stops per peer): ` +
      (Math.ceil(0.95 * Math.min(crashes, gracefuls)) >= Math.min(crashes, gracefuls)
        ? 'with so few samples, p95 is the largest sample, the same as max.'
        : 'p95 is an observed sample, never an interpolation.'),
    '- The counting proxy adds a loopback hop to every command, for every peer alike.',
    '- `redlock (held)` takes its lock for 0.9 × interval, not for the lease: a lock held longer than the interval would skip intervals. Nothing protects it from a run that outlives that lock (a GC pause, a slow job).',
    '- BullMQ has no leader, so "new leader" does not apply; its worker runs with `lockDuration` = leaseTtl and `stalledInterval` = the retry period instead of its defaults (30 s each), to be judged on the same settings.',
    '- redis-leader\u2019s README documents `stop(callback)`, but its code takes no callback and sends the DEL only after a GET round trip: its node waits up to 1 s for the `revoked` event before closing the connection.',
    '- ts-safe-redis-leader depends on ioredis 4; like every other peer, its node is given the app\u2019s ioredis 5 client, with the options its README shows.',
  ];
  lines.push(
    '- With many nodes on one election, every follower answers a release at once: at 50 nodes, 49 node processes and the driver (whose proxies relay every command) wake together on 2 cores, so the hand-over times there include waiting for a CPU on this machine.',
  );
  if (nodesLeft.length > 0)
    lines.push(
      `- Nodes on one election were measured for ${scaleNodes.peers.map(label).join(', ')} only, not for ${nodesLeft.join(', ')}: each Nest node costs a CPU second or more to load, and 50 of them per peer would not fit the 15-minute budget of this 2-core machine.`,
    );
  if (electionsLeft.length > 0)
    lines.push(`- Elections in one process were not measured for ${electionsLeft.join(', ')}.`);
  const noTakeOver = scaleElections.peers.filter(
    (id) => !scaleElections.failoverPeers.includes(id),
  );
  if (noTakeOver.length > 0)
    lines.push(
      `- The take-over at scale was timed for ${scaleElections.failoverPeers.map(label).join(', ') || 'no peer'} only; ${noTakeOver.map(label).join(', ')} ${noTakeOver.length > 1 ? 'have' : 'has'} cost figures only at scale (redlock and BullMQ have no leadership to take over).`,
    );
  return lines.join('\n');
}
