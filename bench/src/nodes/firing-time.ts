/**
 * The slot of a firing of an every-second (or coarser) `@Cron`: its intended instant, the firing
 * time rounded to the second. cron fires on time or a few ms after, so rounding finds the instant
 * unless the event loop held the firing back by half a second.
 */
export function slotOfFiring(firedAt: number): number {
  return Math.round(firedAt / 1000) * 1000;
}

/**
 * Calls the method with the instant it was called at, read before anything below this decorator
 * (kettle's guard, which claims the slot in Redis first) delays the body. Goes above `@OnMaster`
 * and below `@Cron`, and copies the metadata of the method it wraps, as such decorators must.
 */
export function WithFiringTime(): MethodDecorator {
  return (_target, _key, descriptor: PropertyDescriptor) => {
    const inner = descriptor.value as (this: object, firedAt: number) => unknown;
    const outer = function (this: object): unknown {
      return inner.call(this, Date.now());
    };
    for (const key of Reflect.getMetadataKeys(inner))
      Reflect.defineMetadata(key, Reflect.getMetadata(key, inner), outer);
    descriptor.value = outer;
  };
}
