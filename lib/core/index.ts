/**
 * `nestjs-kettle/core`: the elections and the stores without Nest, for a plain Node worker.
 * KettleModule is built on the same `Kettle`.
 */
export { Kettle, type JoinOptions, type ReadOptions, type ScheduleSpec } from './kettle.js';
export type { Duration } from './utils/duration.js';
export type { MasterContext } from './interfaces/master-context.interface.js';
export type { LeadershipChange, StepDownReason } from './interfaces/leadership-change.interface.js';
export type { RunInfo, RunObserver, RunOutcome } from './interfaces/run-observer.interface.js';
export type {
  ElectionCounters,
  ElectionStats,
  RenewLatency,
} from './interfaces/election-stats.interface.js';
export type {
  ElectionOptions,
  KettleLogger,
  KettleOptions,
} from './interfaces/kettle-options.interface.js';
export type {
  KettleStore,
  AcquireResult,
  ClaimResult,
  ConnectionSignal,
  FleetMember,
  SignalCheck,
  SlotClaim,
  SlotClaimOptions,
} from './store/kettle-store.interface.js';
export { RedisStore, type RedisStoreOptions } from './store/redis.store.js';
export type { RedisConnection } from './store/redis-connection.js';
export { MemoryStore } from './store/memory.store.js';
export { QuorumStore, type QuorumStoreOptions } from './store/quorum.store.js';
export { KettleQuorumError } from './store/majority.js';
export { KettleStoreError, type KettleStoreErrorReason } from './store/store-error.js';
export { holderOf, newLease } from './store/lease.js';
export { LeadershipEndedError } from './errors.js';
export { fencedGet, fencedSet, FENCED_SET, type FencedValue } from './fencing.js';
export { ELECTION_METRICS, type ElectionMetric } from './election-metrics.js';
