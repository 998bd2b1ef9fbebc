import type { Election } from '../core/election/election.js';
import { describeError, stackOf } from '../core/utils/thrown-values.js';
import type { FiringSlots } from '../core/election/firing-slots.interface.js';
import { guardedRunFailed } from '../core/kettle.messages.js';

type Method = (this: object, ...args: unknown[]) => unknown;
/** Decides, each time the method is called, whether its body runs. */
type Guard = (body: () => unknown) => unknown;

/**
 * instance → the method's `@OnMaster` metadata → its guard. Keyed by the metadata, not by the
 * function: a decorator above `@OnMaster` that wraps the method (tracing, transactions) and copies
 * its metadata hands the explorer its own wrapper, but the same metadata object. Weak: an app that
 * closes leaves nothing behind.
 */
const guards = new WeakMap<object, Map<object, Guard>>();

/**
 * What `@OnMaster` puts in place of the method: the body itself, unless the explorer gave this
 * instance's method a guard (because @nestjs/schedule fires it too). Calls outside Nest, or from a
 * unit test that built the class by hand, run the body as written. `key`: the `@OnMaster` metadata.
 */
export function guardable(original: Method, key: object): Method {
  const guarded: Method = function (this: object, ...args: unknown[]) {
    const guard = guards.get(this)?.get(key);
    const body = () => original.apply(this, args);
    return guard ? guard(body) : body();
  };
  return guarded;
}

/**
 * Makes the `guardable` whose `@OnMaster` metadata is `key` run its body on `instance` only while
 * `election()` says master, and once per slot of its schedule (`slots`), whichever node fires.
 */
export function installGuard(
  instance: object,
  key: object,
  id: string,
  election: () => Election | undefined,
  slots: FiringSlots,
): void {
  let methods = guards.get(instance);
  if (!methods) guards.set(instance, (methods = new Map()));
  methods.set(key, (body) => runIfMaster(election(), id, slots, body));
}

/**
 * The body runs when this node is master, on its own clock, and the election is neither stopping
 * nor resigning (which wait for it, as for a job), and once the firing's slot is claimed in the
 * store: no other firing of that slot runs, on this node or another. Otherwise the firing is
 * skipped, and counted (followerSkips when this node is not master, repeatedSlots, lateSlots).
 * A failure is logged and counted, as for an interval job, and not thrown.
 */
async function runIfMaster(
  election: Election | undefined,
  id: string,
  slots: FiringSlots,
  body: () => unknown,
): Promise<unknown> {
  const running = election?.startScheduledRun(async () => {
    const claimed = await election.claimFiringSlot(id, slots);
    if (claimed !== 'run') {
      if (claimed === 'follower') election.stats.followerSkips++;
      else if (claimed === 'repeated') election.stats.repeatedSlots++;
      else if (claimed === 'late') election.stats.lateSlots++;
      return undefined;
    }
    election.stats.runs++;
    let result: unknown;
    await election.observeScheduledRun(id, async () => {
      try {
        result = await body();
        return { ok: true };
      } catch (error) {
        election.stats.failedRuns++;
        election.logger.error(
          guardedRunFailed(election.name, id, describeError(error)),
          stackOf(error),
        );
        return { ok: false, error };
      }
    });
    return result;
  });
  // Counted, not logged: a follower skips every firing, and Nest prints debug lines by default.
  if (!running && election && !election.isMaster) election.stats.followerSkips++;
  return running;
}
