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
import { Kettle } from './core/kettle.js';
import { KETTLE, KETTLE_STORE } from './kettle.constants.js';
import { KettleExplorer } from './kettle.explorer.js';
import { KettleService } from './kettle.service.js';

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

/** The options are validated here, at bootstrap: a bad one fails the app's start, naming it. */
function createKettle(options: KettleModuleOptions = {}): Kettle {
  const isObject = options !== null && typeof options === 'object';
  return new Kettle(
    isObject ? { ...options, logger: options.logger ?? new Logger('Kettle') } : options,
  );
}

/** Leader election on Redis. Global: import it once, in the root module. */
@Global()
@Module({
  imports: [DiscoveryModule],
  providers: [
    { provide: KETTLE, useFactory: createKettle, inject: [MODULE_OPTIONS_TOKEN] },
    { provide: KETTLE_STORE, useFactory: (kettle: Kettle) => kettle.store, inject: [KETTLE] },
    KettleService,
    KettleExplorer,
  ],
  // The store for KettleHealthIndicator (nestjs-kettle/health), which reads through it.
  exports: [KettleService, KETTLE_STORE],
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
