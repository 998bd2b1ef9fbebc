import { type BalancePeerId, CRON_PEERS, type CronPeerId, PEERS, type PeerId } from './peers.js';

/**
 * Everything a bench run does, chosen so that the full run fits in ~15 minutes on 2 cores, and
 * 4-5 more for the cron section, about 3 for the balance section, about 5 for the crash section.
 */
export interface BenchConfig {
  mode: 'full' | 'smoke';
  /** The same for every peer: how often the job runs, and how long a lease or lock lives. */
  interval: number;
  leaseTtl: number;
  /** Scenarios 1-4: nodes per peer, the steady-state window, and faults of each kind. */
  nodes: number;
  costWindowMs: number;
  crashes: number;
  gracefuls: number;
  peers: PeerId[];
  scaleElections: {
    levels: number[];
    peers: PeerId[];
    warmupMs: number;
    windowMs: number;
    /**
     * The window up to 100 elections: a few elections send a few commands a second, and counting
     * whole commands over a short window would skew their rate.
     */
    fewWindowMs: number;
    /** Peers whose fail-over is also timed at each level (a second process takes over). */
    failoverPeers: PeerId[];
  };
  scaleNodes: {
    levels: number[];
    peers: PeerId[];
    windowMs: number;
    /** Faults of each kind at each level above one node. */
    faults: number;
  };
  cron: CronConfig;
  balance: BalanceConfig;
  crash: CrashConfig;
}

/** The cron scenario: one job every second on `nodes` nodes, steady, then stops, then crashes. */
export interface CronConfig {
  /** Seconds first; every second, so that a hand-over spans several slots. */
  expression: string;
  /** ms between two slots of `expression`. */
  periodMs: number;
  peers: CronPeerId[];
  steadyMs: number;
  gracefuls: number;
  crashes: number;
  /** How long after a fault's victim has exited the cluster runs short of a node. */
  afterFaultMs: number;
}

/**
 * The balance scenario: `nodes` kettle nodes share `elections` elections. One boots, the others
 * join, nothing happens for `stableMs`, the node leading most is killed, and a new one starts.
 */
export interface BalanceConfig {
  /** kettle with `balance: true`, and (as the baseline) without. */
  peers: BalancePeerId[];
  nodes: number;
  elections: number;
  /** Nothing happens: any hand-over in it is ping-pong. */
  stableMs: number;
  /**
   * A phase after a join, a kill or a restart ends once no leadership changed for this long (two
   * leases: a crashed node's leases and its record in the fleet have run out by then)...
   */
  quietMs: number;
  /** ...or after this long, whatever happens. */
  phaseLimitMs: number;
}

/**
 * The crash section: kettle with crashDetection 'connection', with 'lease' (the baseline), and
 * peers, at kettle's default lease, where a crash followed within a poll and one followed after
 * the lease differ most. Per peer: `nodes` nodes, a steady window, `freezes` SIGSTOPs of the
 * master, then `crashes` SIGKILLs of it.
 */
export interface CrashConfig {
  /** kettle's two set-ups first; the others as in scenarios 1-4. */
  peers: PeerId[];
  leaseTtl: number;
  nodes: number;
  costWindowMs: number;
  freezes: number;
  /** How long a frozen node stays stopped: well within the lease. */
  freezeMs: number;
  /** A freeze's hand-overs are counted up to this long after the SIGCONT. */
  afterFreezeMs: number;
  crashes: number;
  /**
   * Before a fault, every node of a peer that `settles` has been up this long: kettle takes a
   * lease over only from a holder it has seen alive at one of its polls (every lease / 20); a few
   * polls, and a second's margin on top.
   */
  settleMs: number;
}

/** kettle's poll with crashDetection 'connection': every twentieth of the lease, 100 ms to 5 s. */
export function crashPollMs(leaseTtl: number): number {
  return Math.min(5000, Math.max(100, Math.round(leaseTtl / 20)));
}

/** kettle's default lease: 10 s. Its settling time there is 5 s. */
const CRASH_LEASE_TTL = 10_000;
const CRASH = {
  leaseTtl: CRASH_LEASE_TTL,
  nodes: 3,
  freezeMs: 2000,
  afterFreezeMs: 3000,
  settleMs: 3 * crashPollMs(CRASH_LEASE_TTL) + 1000,
};

const BALANCE = { nodes: 3, elections: 30, quietMs: 6000, phaseLimitMs: 30_000 };

const CRON = {
  expression: '* * * * * *',
  periodMs: 1000,
  peers: CRON_PEERS.map((peer) => peer.id as CronPeerId),
  afterFaultMs: 5000,
};

const ALL = PEERS.map((peer) => peer.id);

export const FULL: BenchConfig = {
  mode: 'full',
  interval: 1000,
  leaseTtl: 3000,
  nodes: 3,
  costWindowMs: 8000,
  crashes: 10,
  gracefuls: 10,
  peers: ALL,
  scaleElections: {
    levels: [1, 100, 1000, 10_000],
    peers: ALL,
    // A node's CPU over 3 s read anywhere from 17 % to 48 % at 10,000 elections: 10 s, after 5 s.
    warmupMs: 5000,
    windowMs: 10_000,
    fewWindowMs: 6000,
    failoverPeers: ['kettle'],
  },
  scaleNodes: { levels: [1, 10, 50], peers: ['kettle'], windowMs: 5000, faults: 2 },
  cron: { ...CRON, steadyMs: 20_000, gracefuls: 3, crashes: 3 },
  balance: { ...BALANCE, peers: ['kettle-balance', 'kettle-unbalanced'], stableMs: 60_000 },
  crash: {
    ...CRASH,
    peers: ['kettle-connection', 'kettle-lease', 'redis-leader', 'bullmq'],
    costWindowMs: 10_000,
    freezes: 2,
    crashes: 5,
  },
};

export const SMOKE: BenchConfig = {
  mode: 'smoke',
  interval: 1000,
  leaseTtl: 3000,
  nodes: 3,
  costWindowMs: 2000,
  crashes: 1,
  gracefuls: 1,
  peers: ALL,
  scaleElections: {
    levels: [1, 100],
    peers: ['kettle'],
    warmupMs: 1000,
    windowMs: 2000,
    fewWindowMs: 2000,
    failoverPeers: ['kettle'],
  },
  scaleNodes: { levels: [4], peers: ['kettle'], windowMs: 2000, faults: 1 },
  cron: { ...CRON, steadyMs: 5000, gracefuls: 1, crashes: 1 },
  balance: { ...BALANCE, peers: ['kettle-balance'], stableMs: 10_000 },
  crash: {
    ...CRASH,
    peers: ['kettle-connection', 'kettle-lease'],
    costWindowMs: 3000,
    freezes: 1,
    crashes: 1,
  },
};
