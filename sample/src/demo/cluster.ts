import type { NodeEvent } from '../node-events.js';

/** The settings every node of one demo shares. */
export interface NodeSettings {
  readonly intervalMs: number;
  readonly leaseMs: number;
  /** Runs the report job on this cron schedule instead of every intervalMs. */
  readonly cron?: string;
  /** Unique per demo run, so that runs never meet in a shared Redis. */
  readonly keyPrefix: string;
  /** The Redis the nodes use; undefined on the memory store. */
  readonly redisUrl?: string;
  /** Balanced elections each node joins besides the report job's (BALANCED_ELECTIONS); 0 for none. */
  readonly elections: number;
}

/** What a cluster tells about its nodes. */
export interface ClusterListener {
  started(nodeId: string, pid: number): void;
  event(event: NodeEvent): void;
  /** A node is gone; `how` says how (`SIGKILL`, `code 1`), `output` is its last lines of stderr. */
  exited(nodeId: string, how: string, output: string[]): void;
}

/** A set of nodes of the sample app that the demo can start and mistreat. */
export interface Cluster {
  /** One line for the user: where the nodes run. */
  readonly description: string;
  /** What `kill` and `pause` do here, when it is not what the words say. */
  readonly caveat?: string;
  /** Starts node `nodeId`; its events come to the listener. */
  add(nodeId: string): Promise<void>;
  /** Ends it with no chance to release its lease (SIGKILL). */
  kill(nodeId: string): void;
  /** Asks it to shut down (SIGTERM): it releases its lease. */
  stop(nodeId: string): void;
  /** Freezes it (SIGSTOP) until `resume`. */
  pause(nodeId: string): void;
  resume(nodeId: string): void;
  /** Stops every node that is left and resolves when all are gone. */
  shutdown(): Promise<void>;
  /** Every process this cluster started (none when the nodes run in the demo's process). */
  readonly pids: readonly number[];
}
