import type { BenchConfig } from './config.js';
import type { ElectionScaleStep } from './scenarios/scale-elections.js';
import type { NodeScaleStep } from './scenarios/scale-nodes.js';
import type { BalanceSession } from './scenarios/balance.js';
import type { CronSession } from './scenarios/cron.js';
import type { CrashSession } from './scenarios/crash.js';
import type { PeerSession } from './scenarios/failover-session.js';

/** Everything one bench run measured: written to bench/results/, and the report is made from it. */
export interface BenchResults {
  config: BenchConfig;
  startedAt: string;
  seconds: number;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGb: number;
    node: string;
    redis: string;
    /** 1-minute load average before and after: other work on the machine shows here. */
    loadBefore: number;
    loadAfter: number;
  };
  versions: Record<string, string>;
  sessions: PeerSession[];
  electionScale: ElectionScaleStep[];
  nodeScale: NodeScaleStep[];
  /** The cron scenario, one session per cron peer; absent in results of an older bench. */
  cron?: CronSession[];
  /** The balance scenario, one session per kettle set-up; absent in results of an older bench. */
  balance?: BalanceSession[];
  /** The crash section, one session per peer; absent in results of an older bench. */
  crash?: CrashSession[];
  /** Scenarios or peers that could not be run, and why. */
  skipped: string[];
}
