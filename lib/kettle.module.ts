import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Kettle } from './core/kettle.js';
import type { KettleModuleOptions } from './interfaces/kettle-module-options.interface.js';
import { KETTLE_STORE } from './kettle.constants.js';
import { KettleExplorer } from './kettle.explorer.js';
import {
  ConfigurableModuleClass,
  type KettleModuleAsyncOptions,
} from './kettle.module-definition.js';
import { KettleService } from './kettle.service.js';

export type { KettleModuleAsyncOptions, KettleOptionsFactory } from './kettle.module-definition.js';

/** Leader election on Redis. Global: import it once, in the root module. */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    KettleService,
    // The same instance under the core class's token, for code written against `Kettle`.
    { provide: Kettle, useExisting: KettleService },
    { provide: KETTLE_STORE, useFactory: (kettle: Kettle) => kettle.store, inject: [Kettle] },
    KettleExplorer,
  ],
  // The store for KettleHealthIndicator (nestjs-kettle/health), which reads through it.
  exports: [KettleService, Kettle, KETTLE_STORE],
})
export class KettleModule extends ConfigurableModuleClass {
  /** Options may be left out: Redis then comes from REDIS_URL or REDIS_HOST, else 127.0.0.1:6379. */
  static forRoot(options: KettleModuleOptions = {}): DynamicModule {
    return super.forRoot(options);
  }

  static forRootAsync(options: KettleModuleAsyncOptions): DynamicModule {
    return super.forRootAsync(options);
  }
}
