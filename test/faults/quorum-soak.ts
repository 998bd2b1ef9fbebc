import { sleep } from '#tools/wait.js';
import { checkInvariants } from './invariants.js';
import { QUORUM_MAJORITY, QUORUM_SERVERS, QuorumRig } from './quorum-rig.js';
import {
  crashes,
  type FaultTally,
  injectNodeFault,
  missedIntervals,
  type NodeFault,
  resultTable,
  runFaults,
  type SoakResult,
  type SoakSettings,
} from './soak-loop.js';

export const QUORUM_FAULTS = [
  'kill',
  'terminate',
  'freeze',
  'block',
  'server-kill',
  'server-pause',
  'server-latency',
  'partition-one',
  'partition-two',
] as const;
type Fault = (typeof QUORUM_FAULTS)[number];
type OneServerFault = Exclude<Fault, NodeFault | 'partition-two'>;
/** Faults after which the old master still runs: if it loses its lease, it must step down first. */
const CUT_OFF = new Set<Fault>([
  'server-kill',
  'server-pause',
  'server-latency',
  'partition-one',
  'partition-two',
]);
/** Faults on one server of three: a master holding the other two keeps its leadership. */
const ONE_SERVER = new Set<Fault>([
  'server-kill',
  'server-pause',
  'server-latency',
  'partition-one',
]);

export type QuorumSoakResult = SoakResult<Fault>;

const randomServer = () => Math.floor(Math.random() * QUORUM_SERVERS);

/**
 * N nodes electing on a quorum of three private redis-servers (see QuorumRig), and a random fault
 * every few seconds: on the master (kill, terminate, freeze, block), on one server (killed and
 * started again empty after two leases, as docs/QUORUM.md asks; paused; slowed for every node),
 * or on the master's links (cut from one server, or from two); then the invariants.
 */
export async function quorumSoak(
  settings: SoakSettings,
  log: (line: string) => void = () => undefined,
): Promise<QuorumSoakResult> {
  const { intervalMs, leaseMs } = settings;
  const healAfter = leaseMs * 2;
  const rig = new QuorumRig({ intervalMs, leaseMs, runMs: 50 });

  const inject = async (fault: Fault, master: string): Promise<boolean | void> => {
    switch (fault) {
      case 'kill':
      case 'terminate':
      case 'freeze':
      case 'block':
        return injectNodeFault(rig.cluster, fault, master, healAfter, async () => {
          await rig.replace(master);
        });
      case 'partition-two': {
        const spared = randomServer();
        log(`  cut from every server but ${spared}`);
        const cut = rig.links.get(master)!.filter((_, i) => i !== spared);
        for (const link of cut) link.partition();
        await sleep(healAfter);
        for (const link of cut) link.heal();
        return;
      }
      default:
        return oneServer(fault, master);
    }
  };

  /** A fault on one server (for every node, or on the master's link only); healed after it. */
  const oneServer = async (fault: OneServerFault, master: string): Promise<boolean> => {
    const target = randomServer();
    const held = await rig.heldBy(master);
    // The master keeps a majority only if it holds two servers besides the one faulted.
    const expected = held.filter((i) => i !== target).length >= QUORUM_MAJORITY;
    log(`  server ${target}; ${master} holds servers [${held.join(', ')}]`);
    const server = rig.servers[target];
    switch (fault) {
      case 'server-kill':
        await server.kill();
        // Back empty, but only after more than a lease (docs/QUORUM.md, limits).
        await sleep(healAfter);
        await server.start();
        break;
      case 'server-pause':
        server.pause();
        await sleep(healAfter);
        server.resume();
        break;
      case 'server-latency':
        rig.slow(target, leaseMs / 2);
        await sleep(healAfter);
        rig.slow(target, 0);
        break;
      case 'partition-one': {
        const link = rig.links.get(master)![target];
        link.partition();
        await sleep(healAfter);
        link.heal();
        break;
      }
    }
    return expected;
  };

  let tally: FaultTally<Fault>;
  let leaks = 0;
  try {
    await rig.start(settings.nodes);
    tally = await runFaults(
      rig.cluster,
      settings,
      { faults: QUORUM_FAULTS, cutOff: CUT_OFF, rideOut: ONE_SERVER, inject },
      log,
    );
  } finally {
    leaks = await rig.stop();
  }
  const { events } = rig.cluster;
  return {
    ...tally,
    missedIntervals: missedIntervals(events, intervalMs),
    crashes: crashes(events),
    leaks,
    ...checkInvariants(events),
  };
}

/** The result as Markdown tables, for docs/RELIABILITY.md. */
export function quorumSoakTable(result: QuorumSoakResult): string {
  const kept = (expected: boolean, fault?: Fault) => {
    const cases = result.rideOuts.filter(
      (r) => r.expected === expected && (fault === undefined || r.fault === fault),
    );
    return `${cases.filter((r) => r.kept).length} of ${cases.length}`;
  };
  const rideOuts = [...ONE_SERVER].map(
    (f) => `| ${f} | ${result.injected[f]} | ${kept(true, f)} | ${kept(false, f)} |`,
  );
  return [
    resultTable('Quorum soak (3 redis-servers)', QUORUM_FAULTS, result, [
      `| one-server fault, master held a majority without that server: kept its leadership | ${kept(true)} |`,
      `| one-server fault, master needed that server: kept its leadership | ${kept(false)} |`,
    ]),
    '',
    '| one-server fault | injected | master held a majority without it: kept | master needed it: kept |',
    '| --- | --- | --- | --- |',
    ...rideOuts,
  ].join('\n');
}
