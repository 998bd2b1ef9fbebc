import type { OnMasterOptions } from '../interfaces/kettle-module-options.interface.js';
import type { MasterContext } from '../core/interfaces/master-context.interface.js';
import { ON_MASTER_METADATA } from '../kettle.constants.js';
import { notAMethod } from '../core/kettle.messages.js';
import { guardable } from '../schedule/schedule-guard.js';

export interface OnMasterMetadata {
  readonly name: string;
  readonly options: OnMasterOptions;
}

/**
 * A method decorator that takes only the methods kettle can call with `Arg`: `(arg: Arg) => ...`,
 * or with no parameter. `(id: string) => ...` does not compile.
 */
export type MethodDecoratorFor<Arg> = <Method extends (arg: Arg) => unknown>(
  target: object,
  key: string | symbol,
  descriptor: TypedPropertyDescriptor<Method>,
) => TypedPropertyDescriptor<Method> | void;

/**
 * What a method guarded by `@OnMaster` under `@Cron`, `@Interval` or `@Timeout` returns to its
 * callers: a promise, of `undefined` whenever the body did not run (this node is not master, the
 * slot ran elsewhere, the body threw). Declare the method with it, e.g. `async sweep():
 * Guarded<number>`, so that callers see what they get.
 */
export type Guarded<R> = Promise<Awaited<R> | undefined>;

/**
 * Runs the method on the node that holds election `name`, once every interval, with a
 * MasterContext as its first argument. Methods that share a name share one election.
 *
 * With `@Cron`, `@Interval` or `@Timeout` (@nestjs/schedule) on the same method, the schedule
 * decides when: it fires on every node, and the body runs only on the master of `name`, with the
 * arguments the schedule passes (none: declare it without parameters, and its return type with
 * `Guarded`).
 */
export const OnMaster =
  (name: string, options: OnMasterOptions = {}): MethodDecoratorFor<MasterContext> =>
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
    descriptor.value = method as unknown as typeof descriptor.value;
    return descriptor;
  };
