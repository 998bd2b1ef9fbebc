import type { ElectionStats } from '../interfaces/election-stats.interface.js';
import type { Election } from './election.js';

/** One election's counters, role and lease, as one plain object: fit for JSON and for metrics. */
export function electionStats(election: Election): ElectionStats {
  return {
    name: election.name,
    isMaster: election.isMaster,
    term: election.term ?? null,
    leaseLeftMs: election.leaseLeft,
    ...election.stats,
    renewLatency: election.renewLatency.snapshot(),
  };
}
