import { Redis } from 'ioredis';
import { uniquePrefix } from '../support/nodes.js';
import { RedisServer } from '../support/redis-server.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { sleep, waitFor } from '../support/wait.js';
import { FaultCluster, monotonicNow } from './cluster.js';
import { checkInvariants, type FaultEvent, type InvariantReport } from './invariants.js';

export interface SoakSettings {
  nodes: number;
  seconds: number;
  intervalMs: number;
  leaseMs: number;
  /** Pause between one fault's heal and the next fault. */
  quietMs: number;
}

export const FAULTS = [
  'kill',
  'terminate',
  'freeze',
  'block',
  'partition',
  'latency',
  'redis-pause',
  'redis-restart',
] as const;
type Fault = (typeof FAULTS)[number];
/** Faults after which the old master still runs, cut off from Redis. */
const CUT_OFF = new Set<Fault>(['partition', 'latency', 'redis-pause']);

export interface SoakResult extends InvariantReport {
  settings: SoakSettings;
  injected: Record<Fault, number>;
  /** Per fault: ms from the fault to the next election (of any node). */
  failovers: Record<Fault, number[]>;
  /** Per fault: how often another node took over. */
  handOvers: Record<Fault, number>;
  /**
   * For faults that leave the old master running but cut off (partition, latency, Redis paused):
   * ms between its step-down and the next node's election. Positive: it gave up first.
   */
  stepDownMargins: number[];
  /** Interval slots with no run started, over the whole soak (faults included). */
  missedIntervals: number;
  /** Processes that exited on their own with an error (not killed by the soak). */
  crashes: number;
  /** Nodes that did not exit by themselves after app.close(). */
  leaks: number;
}

/** N nodes, each behind its own proxy, and a random fault every few seconds; then the invariants. */
export async function soak(
  settings: SoakSettings,
  log: (line: string) => void = () => undefined,
): Promise<SoakResult> {
  const { intervalMs, leaseMs, quietMs } = settings;
  const server = await RedisServer.start();
  const admin = new Redis(server.port);
  admin.on('error', () => undefined); // Redis is restarted on purpose
  const proxies = new Map<string, TcpProxy>();
  const cluster = new FaultCluster({
    redisUrl: server.url,
    keyPrefix: uniquePrefix(),
    intervalMs,
    leaseMs,
    runMs: 50,
  });
  const injected = Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<Fault, number>;
  const failovers = Object.fromEntries(FAULTS.map((f) => [f, [] as number[]])) as Record<
    Fault,
    number[]
  >;
  const stepDownMargins: number[] = [];
  const handOvers = Object.fromEntries(FAULTS.map((f) => [f, 0])) as Record<Fault, number>;
  let serial = 0;
  let leaks = 0;
  const addNode = async () => {
    const id = `n${++serial}`;
    const proxy = await TcpProxy.start(server.port);
    proxies.set(id, proxy);
    await cluster.start([id], { REDIS_URL: proxy.url, BLOCK_MS: String(leaseMs * 2) });
  };
  try {
    for (let i = 0; i < settings.nodes; i++) await addNode();
    const endAt = monotonicNow() + settings.seconds * 1000;
    while (monotonicNow() < endAt) {
      const master = await waitFor(() => cluster.master(), 'a master', leaseMs * 6).catch(
        () => undefined,
      );
      if (!master) {
        log('no master; waiting');
        continue;
      }
      const fault = FAULTS[Math.floor(Math.random() * FAULTS.length)];
      injected[fault]++;
      const at = monotonicNow();
      log(`${fault} on ${master}`);
      await inject(fault, master);
      // The next election by any node: for a Redis fault it may be the old master again.
      const elected = () => cluster.events.find((e) => e.ev === 'elected' && e.t > at);
      const next = await waitFor(elected, 'a master again', leaseMs * 4).catch(() => undefined);
      if (next) failovers[fault].push(next.t - at);
      if (next && next.node !== master) handOvers[fault]++;
      const revoked = cluster.events.find(
        (e) => e.ev === 'revoked' && e.node === master && e.t > at,
      );
      if (next && next.node !== master && revoked && CUT_OFF.has(fault))
        stepDownMargins.push(next.t - revoked.t);
      await sleep(quietMs);
    }
  } finally {
    leaks = (await cluster.stop()).filter((exit) => !exit.exitedAlone).length;
    admin.disconnect();
    for (const proxy of proxies.values()) await proxy.close();
    await server.kill();
  }
  return {
    settings,
    injected,
    failovers,
    handOvers,
    stepDownMargins,
    missedIntervals: missedIntervals(cluster.events, intervalMs),
    crashes: cluster.events.filter((e) => e.ev === 'exit' && e.code !== 0 && e.signal === null)
      .length,
    leaks,
    ...checkInvariants(cluster.events),
  };

  async function inject(fault: Fault, master: string): Promise<void> {
    const proxy = proxies.get(master)!;
    const healAfter = leaseMs * 2;
    switch (fault) {
      case 'kill':
      case 'terminate':
        cluster.signal(master, fault === 'kill' ? 'SIGKILL' : 'SIGTERM');
        await waitFor(() => cluster.has(master, 'exit'), 'the node to exit', 10_000);
        await proxy.close();
        proxies.delete(master);
        return addNode();
      case 'freeze':
        cluster.signal(master, 'SIGSTOP');
        await sleep(healAfter);
        return void cluster.signal(master, 'SIGCONT');
      case 'block':
        cluster.signal(master, 'SIGUSR2');
        return sleep(healAfter);
      case 'partition':
        proxy.partition();
        await sleep(healAfter);
        return proxy.heal();
      case 'latency':
        proxy.delayMs = leaseMs / 2;
        await sleep(healAfter);
        proxy.delayMs = 0;
        return;
      case 'redis-pause':
        await admin.client('PAUSE', healAfter, 'ALL');
        return sleep(healAfter);
      case 'redis-restart':
        await server.kill();
        await sleep(leaseMs);
        return server.start();
    }
  }
}

/** Slots of one interval, between the first and the last run, in which no run started. */
function missedIntervals(events: readonly FaultEvent[], intervalMs: number): number {
  const starts = events
    .filter((e) => e.ev === 'start')
    .map((e) => e.t)
    .sort((a, b) => a - b);
  let missed = 0;
  for (let i = 1; i < starts.length; i++)
    missed += Math.max(0, Math.round((starts[i] - starts[i - 1]) / intervalMs) - 1);
  return missed;
}

/** The result as Markdown tables, for docs/RELIABILITY.md. */
export function soakTable(result: SoakResult): string {
  const pct = (values: number[], p: number) => {
    if (values.length === 0) return '–';
    const sorted = [...values].sort((a, b) => a - b);
    return `${Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))])}`;
  };
  const rows = FAULTS.map((f) => {
    const times = result.failovers[f];
    return `| ${f} | ${result.injected[f]} | ${result.handOvers[f]} | ${pct(times, 50)} | ${pct(times, 95)} | ${times.length ? Math.round(Math.max(...times)) : '–'} |`;
  });
  const s = result.settings;
  return [
    `Soak: ${s.nodes} nodes, ${s.seconds} s, interval ${s.intervalMs} ms, lease ${s.leaseMs} ms, ${result.runs} runs.`,
    '',
    '| fault | injected | taken over by another node | a master again: p50 ms | p95 ms | max ms |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    '| invariant | count |',
    '| --- | --- |',
    `| double masters (overlapping runs, not fenced) | ${result.doubleMasters} |`,
    `| cut-off master stepped down after the next master was elected | ${result.stepDownMargins.filter((m) => m <= 0).length} of ${result.stepDownMargins.length} |`,
    `| step-down margin ms (min / p50) | ${result.stepDownMargins.length ? `${Math.round(Math.min(...result.stepDownMargins))} / ${pct(result.stepDownMargins, 50)}` : '–'} |`,
    `| stale writes accepted | ${result.staleWritesAccepted} |`,
    `| stale writes refused by the fence | ${result.staleWritesRefused} |`,
    `| overlaps covered by an aborted signal and the fence | ${result.coveredOverlaps} |`,
    `| term regressions | ${result.termRegressions} |`,
    `| missed intervals | ${result.missedIntervals} |`,
    `| crashes | ${result.crashes} |`,
    `| unhandled rejections | ${result.unhandledRejections} |`,
    `| nodes that did not exit after app.close() | ${result.leaks} |`,
  ].join('\n');
}
