import type { ElectionOptions, KettleLogger } from '../interfaces/kettle-options.interface.js';
import type { LeadershipChange } from '../interfaces/leadership-change.interface.js';
import type { MasterContext } from '../interfaces/master-context.interface.js';
import type { RunObserver } from '../interfaces/run-observer.interface.js';
import type { KettleStore } from '../store/kettle-store.interface.js';
import type { Clock } from '../utils/clock.js';
import type { TimerWheel } from '../utils/timer-wheel.js';
import type { TurnSpread } from './turn-spread.js';
import type { ClaimRound } from './claim-round.js';
import type { GroupedLines } from './grouped-lines.js';
import type { CrashWatchLink } from './crash-watch.js';
import type { CatchUp, CronSchedule } from './schedule.js';
import type { ElectionTiming } from './timing.js';

/** A method to run on the master each interval, or at each slot of its cron schedule. */
export interface MasterJob {
  /** For logs, e.g. `BillingService.charge`. */
  readonly id: string;
  readonly run: (context: MasterContext) => unknown;
}

/** An `@OnElected` method (given the MasterContext) or an `@OnRevoked` one (the LeadershipChange). */
export interface LeadershipHandler<T> {
  /** For logs, e.g. `StreamService.open`. */
  readonly id: string;
  readonly run: (arg: T) => unknown;
}

/** Everything a node declares for one election: from the explorer, or from `join`. */
export interface ElectionDeclaration {
  readonly settings: ElectionOptions;
  readonly jobs: readonly MasterJob[];
  readonly onElected?: readonly LeadershipHandler<MasterContext>[];
  readonly onRevoked?: readonly LeadershipHandler<LeadershipChange>[];
}

/** What one Election needs: its settings, its jobs, and where to report. */
export interface ElectionConfig {
  readonly name: string;
  readonly nodeId: string;
  readonly timing: ElectionTiming;
  readonly jobs: readonly MasterJob[];
  readonly onElected?: readonly LeadershipHandler<MasterContext>[];
  readonly onRevoked?: readonly LeadershipHandler<LeadershipChange>[];
  /** Set for a cron schedule: the jobs run at its slots instead of every interval. */
  readonly cron?: { readonly schedule: CronSchedule; readonly catchUp: CatchUp };
  /**
   * This node's clock and timers (the system's when not given): deadlines on its monotonic time,
   * slots on its wall time (the store checks them on its own).
   */
  readonly clock?: Clock;
  /**
   * Where its timers run: a wheel shared by a node's elections fires theirs in batches. Its own,
   * exact to the millisecond on `clock`, when not given.
   */
  readonly timerWheel?: TimerWheel;
  /** Sends the run claims of a node's elections in one turn together; its own when not given. */
  readonly claimRound?: ClaimRound;
  /** Groups the store-fault lines of a node's elections; each election's own when not given. */
  readonly groupedLines?: GroupedLines;
  /** Spreads the first acquire and tick of elections started or won together; at once without it. */
  readonly turnSpread?: TurnSpread;
  /**
   * Set when the election is balanced (`balance`): how long this node waits, when the lease is
   * free, before it contends (0 while it leads less than its share).
   */
  readonly balance?: { deferMs(name: string): number };
  /**
   * Set with crashDetection 'connection': the token this node's leases carry, and the watch on the
   * holders of the leases it waits on, which has them taken over once their connections closed.
   */
  readonly crashWatch?: CrashWatchLink;
  readonly store: KettleStore;
  readonly logger: KettleLogger;
  /** Leadership changes at log level when true, at debug level otherwise. */
  readonly verbose: boolean;
  /** Told of every change of this node's role, each in turn; one that throws is logged and counted. */
  readonly listeners: Iterable<(change: LeadershipChange) => void>;
  /** Wrap every run of a job here, guarded firings too (`Kettle.onRun`). */
  readonly runObservers?: ReadonlySet<RunObserver>;
}
