/**
 * `nestjs-kettle/testing`: KettleModule for unit tests, without Redis, where the test decides who
 * leads.
 */
export {
  KettleTestingModule,
  type KettleTestingOptions,
  DEFAULT_TEST_NODE_ID,
} from './kettle-testing.module.js';
export { KettleElectionDriver, KettleTestingController } from './kettle-election-driver.js';
export { OTHER_TEST_NODE } from './testing-store.js';
