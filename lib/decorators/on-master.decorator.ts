import type { OnMasterOptions } from '../interfaces/kettle-module-options.interface.js';
import { ON_MASTER_METADATA } from '../kettle.constants.js';
import { notAMethod } from '../core/kettle.messages.js';
import { guardable } from '../schedule/schedule-guard.js';

export interface OnMasterMetadata {
  readonly name: string;
  readonly options: OnMasterOptions;
}

/**
 * Runs the method on the node that holds election `name`, once every interval, with a
 * MasterContext as its first argument. Methods that share a name share one election.
 *
 * With `@Cron`, `@Interval` or `@Timeout` (@nestjs/schedule) on the same method, the schedule
 * decides when: it fires on every node, and the body runs only on the master of `name`.
 */
export const OnMaster =
  (name: string, options: OnMasterOptions = {}): MethodDecorator =>
  (_target, key, descriptor) => {
    const original: unknown = descriptor.value;
    if (typeof original !== 'function') throw new TypeError(notAMethod(name, String(key)));
    // The method is wrapped here, while classes are defined, so that @nestjs/schedule (which
    // reads the method at bootstrap, in an order kettle does not control) fires the wrapper.
    const metadata: OnMasterMetadata = { name, options };
    const method = guardable(original as Parameters<typeof guardable>[0], metadata);
    // Decorators below this one wrote their metadata on the original: it moves with the method.
    for (const key of Reflect.getOwnMetadataKeys(original)) {
      Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, original), method);
    }
    Reflect.defineMetadata(ON_MASTER_METADATA, metadata, method);
    Object.defineProperty(method, 'name', { value: original.name });
    descriptor.value = method as typeof descriptor.value;
    return descriptor;
  };
