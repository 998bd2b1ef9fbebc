import {
  type ConfigurableModuleAsyncOptions,
  ConfigurableModuleBuilder,
  type ConfigurableModuleOptionsFactory,
  type DynamicModule,
  Global,
  Logger,
  Module,
} from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import type { KettleModuleOptions } from './interfaces/kettle-module-options.interface.js';
import { type ResolvedKettleOptions, resolveKettleOptions } from './kettle-options.js';
import { KETTLE_RESOLVED_OPTIONS, KETTLE_STORE } from './kettle.constants.js';
import { KettleExplorer } from './kettle.explorer.js';
import { redisConnectionError } from './kettle.messages.js';
import { KettleService } from './kettle.service.js';
import type { KettleStore } from './store/kettle-store.interface.js';
import { createStore } from './store/create-store.js';

const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN } =
  new ConfigurableModuleBuilder<KettleModuleOptions>({
    moduleName: 'Kettle',
  })
    .setClassMethodName('forRoot')
    .setFactoryMethodName('createKettleOptions')
    .build();

/** `forRootAsync({ useClass })` and `useExisting` take a class with this method. */
export type KettleOptionsFactory = ConfigurableModuleOptionsFactory<
  KettleModuleOptions,
  'createKettleOptions'
>;
export type KettleModuleAsyncOptions = ConfigurableModuleAsyncOptions<
  KettleModuleOptions,
  'createKettleOptions'
>;

function createStoreForNest(options: ResolvedKettleOptions): KettleStore {
  const logger = new Logger('Kettle');
  return createStore(options, (where, error) =>
    logger.warn(redisConnectionError(where, error.message)),
  );
}

/** Leader election on Redis. Global: import it once, in the root module. */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: KETTLE_RESOLVED_OPTIONS,
      useFactory: (options?: KettleModuleOptions) => resolveKettleOptions(options),
      inject: [MODULE_OPTIONS_TOKEN],
    },
    { provide: KETTLE_STORE, useFactory: createStoreForNest, inject: [KETTLE_RESOLVED_OPTIONS] },
    KettleService,
    KettleExplorer,
  ],
  exports: [KettleService],
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
