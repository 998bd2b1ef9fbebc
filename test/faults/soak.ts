import { Redis } from 'ioredis';
import { RedisServer } from '#tools/redis-server.js';
import { TcpProxy } from '#tools/tcp-proxy.js';
import { sleep } from '#tools/wait.js';
import { uniquePrefix } from '../support/nodes.js';
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
  'blackhole',
  'demote',
] as const;
type Fault = (typeof FAULTS)[number];
/** Faults after which the old master still runs, cut off from Redis. */
const CUT_OFF = new Set<Fault>(['partition', 'latency', 'redis-pause']);
/** The master's lease was replicated to the primary the address moves to: it keeps leading. */
const RIDE_OUT = new Set<Fault>(['demote']);
/** A replica's first sync starts at once, not after the default 5 s of waiting for others. */
const QUICK_SYNC = ['--repl-diskless-sync-delay', '0'];

export type SoakResult = LoopResult<Fault>;

/** One node's links: to Redis (the address that managed Redis moves), and to the resource. */
interface Links {
  readonly redis: TcpProxy;
  readonly resource: TcpProxy;
}

/**
 * N nodes, each behind proxies of its own, and a random fault every few seconds; then the
 * invariants. Redis is whichever of two servers the proxies point at (the primary); the other
 * stands by for a move of the address. The fenced resource lives on a third server, which no
 * Redis fault touches, reached through the node's own proxy too (a partition delays its writes).
 */
export async function soak(
  settings: SoakSettings,
  log: (line: string) => void = () => undefined,
): Promise<SoakResult> {
  const { intervalMs, leaseMs } = settings;
  let primary = await RedisServer.start({ args: QUICK_SYNC });
  let standby = await RedisServer.start({ args: QUICK_SYNC });
  const resource = await RedisServer.start();
  const admins = new Map<RedisServer, Redis>();
  for (const server of [primary, standby]) {
    const admin = new Redis(server.port);
    admin.on('error', () => undefined); // Redis is restarted on purpose
    admins.set(server, admin);
  }
  const links = new Map<string, Links>();
  const cluster = new FaultCluster({
    redisUrl: primary.url,
    keyPrefix: uniquePrefix(),
    intervalMs,
    leaseMs,
    runMs: 50,
  });
  let serial = 0;
  let leaks = 0;
  const addNode = async () => {
    const id = `n${++serial}`;
    const node = {
      redis: await TcpProxy.start(primary.port),
      resource: await TcpProxy.start(resource.port),
    };
    links.set(id, node);
    await cluster.start([id], {
      REDIS_URL: node.redis.url,
      RESOURCE_URL: node.resource.url,
      BLOCK_MS: String(leaseMs * 2),
      ...(settings.crashDetection && { CRASH_DETECTION: settings.crashDetection }),
    });
  };
  const closeLinks = async (id: string) => {
    for (const proxy of Object.values(links.get(id) ?? {})) await proxy.close();
    links.delete(id);
  };
  /** Points every node's Redis address at the standby, which becomes the primary. */
  const moveAddress = (blackHole: boolean) => {
    for (const { redis } of links.values()) {
      redis.retarget(standby.port);
      if (blackHole) redis.blackHole();
    }
    [primary, standby] = [standby, primary];
  };
  let tally;
  try {
    for (let i = 0; i < settings.nodes; i++) await addNode();
    tally = await runFaults(
      cluster,
      settings,
      {
        faults: FAULTS,
        cutOff: CUT_OFF,
        rideOut: RIDE_OUT,
        inject: (fault, master) => inject(fault, master),
      },
      log,
    );
  } finally {
    leaks = (await cluster.stop()).filter((exit) => !exit.exitedAlone).length;
    for (const admin of admins.values()) admin.disconnect();
    for (const id of Array.from(links.keys())) await closeLinks(id);
    for (const server of [primary, standby, resource]) await server.kill();
  }
  return {
    ...tally,
    missedIntervals: missedIntervals(cluster.events, intervalMs),
    crashes: crashes(cluster.events),
    leaks,
    ...checkInvariants(cluster.events),
  };

  async function inject(fault: Fault, master: string): Promise<void> {
    const node = links.get(master)!;
    const proxies = Object.values(node);
    const healAfter = leaseMs * 2;
    switch (fault) {
      case 'kill':
      case 'terminate':
      case 'freeze':
      case 'block':
        return injectNodeFault(cluster, fault, master, healAfter, async () => {
          await closeLinks(master);
          return addNode();
        });
      case 'partition':
        for (const proxy of proxies) proxy.partition();
        await sleep(healAfter);
        for (const proxy of proxies) proxy.heal();
        return;
      case 'latency':
        for (const proxy of proxies) proxy.delayMs = leaseMs / 2;
        await sleep(healAfter);
        for (const proxy of proxies) proxy.delayMs = 0;
        return;
      case 'redis-pause':
        await admins.get(primary)!.client('PAUSE', healAfter, 'ALL');
        return sleep(healAfter);
      case 'redis-restart':
        await primary.kill();
        await sleep(leaseMs);
        return primary.start();
      case 'blackhole':
        // The old server vanishes for the nodes without a reset; the address leads to an empty one.
        await standby.kill();
        await standby.start();
        return moveAddress(true);
      case 'demote':
        // The standby, in sync, is promoted; the old primary turns its replica and says READONLY.
        await standby.replicaOf(primary);
        await standby.synced();
        await standby.replicaOf();
        await primary.replicaOf(standby);
        return moveAddress(false);
    }
  }
}

/** The result as Markdown tables, for docs/RELIABILITY.md. */
export function soakTable(result: SoakResult): string {
  const demotes = result.rideOuts.filter((r) => r.fault === 'demote');
  return resultTable('Soak', FAULTS, result, [
    `| demoted primary: the master kept its leadership | ${demotes.filter((r) => r.kept).length} of ${demotes.length} |`,
  ]);
}
