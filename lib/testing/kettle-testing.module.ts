import { type DynamicModule, Module } from '@nestjs/common';
import type { KettleModuleOptions } from '../interfaces/kettle-module-options.interface.js';
import { KettleModule } from '../kettle.module.js';
import { KETTLE_TESTING_STORE, KettleElectionDriver } from './kettle-election-driver.js';
import { TestingStore } from './testing-store.js';

/** KettleModule's options that mean something without a store of your choosing. */
export type KettleTestingOptions = Omit<KettleModuleOptions, 'redis' | 'store' | 'keyPrefix'>;

/** The node id of a testing module unless the options give one. */
export const DEFAULT_TEST_NODE_ID = 'test-node';

/**
 * KettleModule for unit tests, without Redis: import `KettleTestingModule.forRoot()` instead of
 * `KettleModule.forRoot(...)`, call `moduleRef.init()`, and drive the elections with
 * `moduleRef.get(KettleElectionDriver)`. Every node starts as follower of every election, and
 * master jobs run only when the test calls `runOnce`.
 */
@Module({})
export class KettleTestingModule {
  static forRoot(options: KettleTestingOptions = {}): DynamicModule {
    // One store per module: tests do not see each other's elections.
    const store = new TestingStore();
    return {
      module: KettleTestingModule,
      global: true,
      imports: [KettleModule.forRoot({ nodeId: DEFAULT_TEST_NODE_ID, ...options, store })],
      providers: [{ provide: KETTLE_TESTING_STORE, useValue: store }, KettleElectionDriver],
      exports: [KettleElectionDriver],
    };
  }
}
