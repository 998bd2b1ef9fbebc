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
export {
  KettleTestingModule,
  type KettleTestingOptions,
  DEFAULT_TEST_NODE_ID,
} from './testing/kettle-testing.module.js';
export { KettleTestingController } from './testing/kettle-testing.controller.js';
export { OTHER_TEST_NODE } from './testing/testing-store.js';
