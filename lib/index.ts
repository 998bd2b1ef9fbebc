export {
  KettleModule,
  type KettleModuleAsyncOptions,
  type KettleOptionsFactory,
} from './kettle.module.js';
export { KettleService, type JoinOptions, type ScheduleSpec } from './kettle.service.js';
export { OnMaster } from './decorators/on-master.decorator.js';
export { OnElected, OnRevoked } from './decorators/on-leadership.decorators.js';
export type { MasterContext } from './interfaces/master-context.interface.js';
export type { LeadershipChange, StepDownReason } from './interfaces/leadership-change.interface.js';
export type {
  ElectionCounters,
  ElectionStats,
  RenewLatency,
} from './interfaces/election-stats.interface.js';
export type {
  KettleModuleOptions,
  OnMasterOptions,
  ElectionOptions,
  KettleLogger,
} from './interfaces/kettle-module-options.interface.js';
export type {
  KettleStore,
  AcquireResult,
  ClaimResult,
  SlotClaim,
  SlotClaimOptions,
} from './store/kettle-store.interface.js';
export { RedisStore, type RedisStoreOptions, type RedisConnection } from './store/redis.store.js';
export { MemoryStore } from './store/memory.store.js';
export { QuorumStore, type QuorumStoreOptions } from './store/quorum.store.js';
export { KettleQuorumError } from './store/majority.js';
export { holderOf, newLease } from './store/lease.js';
export { LeadershipEndedError } from './election/errors.js';
export { fencedSet, FENCED_SET } from './fencing.js';
export {
  KettleTestingModule,
  type KettleTestingOptions,
  DEFAULT_TEST_NODE_ID,
} from './testing/kettle-testing.module.js';
export { KettleTestingController } from './testing/kettle-testing.controller.js';
export { OTHER_TEST_NODE } from './testing/testing-store.js';
