import * as testing from './testing/index.js';

export * from './core/index.js';
export {
  KettleModule,
  type KettleModuleAsyncOptions,
  type KettleOptionsFactory,
} from './kettle.module.js';
export { KettleService } from './kettle.service.js';
export {
  OnMaster,
  type Guarded,
  type MethodDecoratorFor,
} from './decorators/on-master.decorator.js';
export { OnElected, OnRevoked } from './decorators/on-leadership.decorators.js';
export type {
  KettleModuleOptions,
  OnMasterOptions,
} from './interfaces/kettle-module-options.interface.js';

// Deprecated here, kept working: the names of `nestjs-kettle/testing`, as the same objects.
/** @deprecated Import `KettleTestingModule` from `nestjs-kettle/testing`. */
export const KettleTestingModule = testing.KettleTestingModule;
/** @deprecated Import `KettleTestingModule` from `nestjs-kettle/testing`. */
export type KettleTestingModule = testing.KettleTestingModule;
/** @deprecated Import `KettleTestingOptions` from `nestjs-kettle/testing`. */
export type KettleTestingOptions = testing.KettleTestingOptions;
/** @deprecated Import `DEFAULT_TEST_NODE_ID` from `nestjs-kettle/testing`. */
export const DEFAULT_TEST_NODE_ID = testing.DEFAULT_TEST_NODE_ID;
/** @deprecated Import `KettleElectionDriver` from `nestjs-kettle/testing`: the same class. */
export const KettleTestingController = testing.KettleElectionDriver;
/** @deprecated Import `KettleElectionDriver` from `nestjs-kettle/testing`: the same class. */
export type KettleTestingController = testing.KettleElectionDriver;
/** @deprecated Import `OTHER_TEST_NODE` from `nestjs-kettle/testing`. */
export const OTHER_TEST_NODE = testing.OTHER_TEST_NODE;
