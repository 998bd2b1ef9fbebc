import { PEERS, type PeerId } from './peers.js';

/** Everything a bench run does, chosen so that the full run fits in ~15 minutes on 2 cores. */
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
}

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
    warmupMs: 2000,
    windowMs: 3000,
    fewWindowMs: 6000,
    failoverPeers: ['kettle'],
  },
  scaleNodes: { levels: [1, 10, 50], peers: ['kettle'], windowMs: 5000, faults: 2 },
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
};
