import { Redis } from 'ioredis';
import { uniquePrefix } from '../support/nodes.js';
import { RedisServer } from '../support/redis-server.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { sleep } from '../support/wait.js';
import { FaultCluster } from './cluster.js';
import { checkInvariants } from './invariants.js';
import {
  crashes,
  injectNodeFault,
  missedIntervals,
  resultTable,
  runFaults,
  type SoakResult as LoopResult,
  type SoakSettings,
} from './soak-loop.js';

export type { SoakSettings } from './soak-loop.js';

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

export type SoakResult = LoopResult<Fault>;

/** N nodes, each behind its own proxy, and a random fault every few seconds; then the invariants. */
export async function soak(
  settings: SoakSettings,
  log: (line: string) => void = () => undefined,
): Promise<SoakResult> {
  const { intervalMs, leaseMs } = settings;
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
  let serial = 0;
  let leaks = 0;
  const addNode = async () => {
    const id = `n${++serial}`;
    const proxy = await TcpProxy.start(server.port);
    proxies.set(id, proxy);
    await cluster.start([id], { REDIS_URL: proxy.url, BLOCK_MS: String(leaseMs * 2) });
  };
  let tally;
  try {
    for (let i = 0; i < settings.nodes; i++) await addNode();
    tally = await runFaults(
      cluster,
      settings,
      { faults: FAULTS, cutOff: CUT_OFF, inject: (fault, master) => inject(fault, master) },
      log,
    );
  } finally {
    leaks = (await cluster.stop()).filter((exit) => !exit.exitedAlone).length;
    admin.disconnect();
    for (const proxy of proxies.values()) await proxy.close();
    await server.kill();
  }
  return {
    ...tally,
    missedIntervals: missedIntervals(cluster.events, intervalMs),
    crashes: crashes(cluster.events),
    leaks,
    ...checkInvariants(cluster.events),
  };

  async function inject(fault: Fault, master: string): Promise<void> {
    const proxy = proxies.get(master)!;
    const healAfter = leaseMs * 2;
    switch (fault) {
      case 'kill':
      case 'terminate':
      case 'freeze':
      case 'block':
        return injectNodeFault(cluster, fault, master, healAfter, async () => {
          await proxy.close();
          proxies.delete(master);
          return addNode();
        });
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

/** The result as Markdown tables, for docs/RELIABILITY.md. */
export function soakTable(result: SoakResult): string {
  return resultTable('Soak', FAULTS, result);
}
