import { epochNow } from '#tools/clock.js';
import { sleep } from '#tools/wait.js';
import { Cluster, type Stage } from '../cluster/cluster.js';
import type { NodeProcess } from '../cluster/node-process.js';
import type { BalanceConfig } from '../config.js';
import type { BalancePeerId, Peer } from '../peers.js';

/** A node started (on: true) or stopped leading an election; `reason` says why it stopped. */
export interface BalanceLead {
  node: string;
  election: number;
  on: boolean;
  t: number;
  reason?: string;
}

/** One run of one election, with the slot it claimed. */
export interface BalanceRun {
  node: string;
  election: number;
  t: number;
  slot?: number;
}

export type BalancePhaseName = 'boot' | 'join' | 'stable' | 'kill' | 'restart';

export interface BalancePhase {
  name: BalancePhaseName;
  /** When the phase's change began (the nodes' start, or the signal); the phase runs until `to`. */
  from: number;
  to: number;
  /** The nodes alive in the phase, in the order they were started. */
  nodes: string[];
  /** The nodes it started, or the node it killed. */
  changed: string[];
}

export interface BalanceSession {
  peer: BalancePeerId;
  elections: number;
  interval: number;
  phases: BalancePhase[];
  /** Every leadership change and every run of every election, by every node, in the session. */
  leads: BalanceLead[];
  runs: BalanceRun[];
  seconds: number;
  /** Why the session stopped early; what it measured up to then is kept. */
  error?: string;
}

/**
 * The balance scenario for one kettle set-up: one node boots and leads every election; the other
 * nodes join; nothing happens for `stableMs`; the node leading most (the last started, on a tie)
 * gets a SIGKILL; a new node takes its place. Every phase after a change lasts until no
 * leadership has changed for `quietMs`. The nodes print every election's runs and leadership
 * changes; analysis/balance.ts reads the phases off them.
 */
export async function balanceSession(
  peer: Peer,
  stage: Stage,
  settings: { interval: number; leaseTtl: number; balance: BalanceConfig },
  progress: (line: string) => void,
): Promise<BalanceSession> {
  const started = performance.now();
  const { interval, leaseTtl, balance } = settings;
  const cluster = await Cluster.onEmptyRedis(peer, stage, {
    interval,
    leaseTtl,
    elections: balance.elections,
  });
  const session: BalanceSession = {
    peer: peer.id as BalancePeerId,
    elections: balance.elections,
    interval,
    phases: [],
    leads: [],
    runs: [],
    seconds: 0,
  };
  const leading = new Map<string, Set<number>>();
  let lastChange = 0;
  const stopListening = cluster.listen((m) => {
    if (m.ev === 'election-run')
      session.runs.push({ node: m.node, election: m.election, t: m.t, slot: m.slot });
    if (m.ev !== 'election-lead') return;
    session.leads.push({ node: m.node, election: m.election, on: m.on, t: m.t, reason: m.reason });
    const led = leading.get(m.node) ?? new Set<number>();
    if (m.on) led.add(m.election);
    else led.delete(m.election);
    leading.set(m.node, led);
    lastChange = epochNow();
  });
  const live: NodeProcess[] = [];
  const phase = (name: BalancePhaseName, from: number, changed: NodeProcess[]) => {
    const entry = {
      name,
      from,
      to: epochNow(),
      nodes: live.map((node) => node.id),
      changed: changed.map((node) => node.id),
    };
    session.phases.push(entry);
    const counts = live.map((node) => leading.get(node.id)?.size ?? 0).join(' / ');
    progress(`  ${peer.id} ${name}: ${Math.round(entry.to - from)} ms, leading ${counts}`);
  };
  /** Until no leadership changed for `quietMs` since `from`, or `phaseLimitMs` after it. */
  const settled = async (from: number) => {
    while (epochNow() - from < balance.phaseLimitMs) {
      if (epochNow() - Math.max(from, lastChange) >= balance.quietMs) return;
      await sleep(100);
    }
  };
  try {
    // Warm spares for every start, the restart's too: loading one takes a CPU second or more,
    // kept out of the phases.
    for (let i = 0; i <= balance.nodes; i++) await cluster.prepareSpare();

    const bootFrom = epochNow();
    const ledAll = cluster.waitFor(
      (m) => (m.ev === 'led' && m.count === balance.elections ? m.t : undefined),
      balance.phaseLimitMs,
    );
    live.push(...(await cluster.add(1)));
    if ((await ledAll) === undefined)
      throw new Error(`the first node did not lead all ${balance.elections} elections`);
    phase('boot', bootFrom, live.slice());

    const joinFrom = epochNow();
    const joined = await cluster.add(balance.nodes - 1);
    live.push(...joined);
    await settled(joinFrom);
    phase('join', joinFrom, joined);

    const stableFrom = epochNow();
    await sleep(balance.stableMs);
    phase('stable', stableFrom, []);

    const most = Math.max(...live.map((node) => leading.get(node.id)?.size ?? 0));
    const victim = [...live].reverse().find((node) => (leading.get(node.id)?.size ?? 0) === most)!;
    const killFrom = epochNow();
    victim.signal('SIGKILL');
    await victim.exited;
    live.splice(live.indexOf(victim), 1);
    await settled(killFrom);
    phase('kill', killFrom, [victim]);

    const restartFrom = epochNow();
    const restarted = await cluster.add(1);
    live.push(...restarted);
    await settled(restartFrom);
    phase('restart', restartFrom, restarted);
  } catch (error) {
    session.error = error instanceof Error ? error.message : String(error);
  } finally {
    stopListening();
    await cluster.close();
  }
  session.seconds = (performance.now() - started) / 1000;
  return session;
}
