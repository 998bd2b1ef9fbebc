import type {
  ElectionOptions,
  KettleOptions,
} from '../core/interfaces/kettle-options.interface.js';

/** `KettleModule.forRoot(options)`: the options of the core `Kettle`, one to one. */
export type KettleModuleOptions = KettleOptions;

/** `@OnMaster(name, options)`. */
export type OnMasterOptions = ElectionOptions;
