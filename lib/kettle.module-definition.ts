import {
  type ConfigurableModuleAsyncOptions,
  ConfigurableModuleBuilder,
  type ConfigurableModuleOptionsFactory,
} from '@nestjs/common';
import type { KettleModuleOptions } from './interfaces/kettle-module-options.interface.js';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: KETTLE_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<KettleModuleOptions>({ moduleName: 'Kettle' })
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
