import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { Observable, Subject } from 'rxjs';
import { Kettle } from './core/kettle.js';
import type { LeadershipChange } from './core/interfaces/leadership-change.interface.js';
import type { KettleModuleOptions } from './interfaces/kettle-module-options.interface.js';
import { KETTLE_MODULE_OPTIONS } from './kettle.module-definition.js';

/**
 * Who leads: the core `Kettle` of `nestjs-kettle/core` (every method of it), started and stopped
 * with the application, plus an Observable of changes. `Kettle` itself is injectable too, as the
 * same instance. `KettleService<'billing' | 'reports'>` lets TypeScript check the election names.
 */
@Injectable()
export class KettleService<Names extends string = string>
  extends Kettle<Names>
  implements
    OnApplicationBootstrap,
    OnModuleDestroy,
    BeforeApplicationShutdown,
    OnApplicationShutdown
{
  private readonly changes = new Subject<LeadershipChange>();
  /** The last change told of each election joined, until it is left. */
  private readonly lastChanges = new Map<string, LeadershipChange>();

  /**
   * This node's role in each election: on subscribe, the current role in every election joined
   * (master with its term; follower with the term it last held, 0 if none, and no `reason`), then
   * every change, per election, none lost or told twice. A subscriber that throws does not reach
   * the election, but rxjs rethrows it in a setTimeout unless `config.onUnhandledError` is set: an
   * uncaught exception, which ends the process by default. Catch in the subscriber.
   */
  readonly leadership$: Observable<LeadershipChange> = new Observable((subscriber) => {
    // Subscribed before the roles are read, and held back until they are told: a change that a
    // subscriber causes while it hears them comes after them, not before or never.
    const held: LeadershipChange[] = [];
    let replaying = true;
    // Added first: a subscriber that ends (or throws) while it hears the roles unsubscribes it.
    subscriber.add(
      this.changes.subscribe({
        next: (change) => (replaying ? held.push(change) : subscriber.next(change)),
        complete: () => subscriber.complete(),
      }),
    );
    for (const role of this.currentRoles()) subscriber.next(role);
    while (held.length > 0) subscriber.next(held.shift()!);
    replaying = false;
  });

  /** @internal The changes from now on, without the current roles: for KettleElectionDriver. */
  readonly changesFromNow$: Observable<LeadershipChange> = this.changes.asObservable();

  /** The options are validated here, at bootstrap: a bad one fails the app's start, naming it. */
  constructor(@Inject(KETTLE_MODULE_OPTIONS) options: KettleModuleOptions = {}) {
    super(withNestLogger(options));
    this.onChange((change) => {
      if (change.reason === 'shutdown') this.lastChanges.delete(change.name);
      else this.lastChanges.set(change.name, change);
      this.changes.next(change);
    });
  }

  /** What leadership$ tells a new subscriber first: the role as last told, per election. */
  private currentRoles(): LeadershipChange[] {
    const names: string[] = this.names();
    // A follower that leaves is told nothing: what it last heard goes here.
    for (const name of this.lastChanges.keys())
      if (!names.includes(name)) this.lastChanges.delete(name);
    return names.map((name) => {
      const last = this.lastChanges.get(name);
      if (last?.isMaster) return last;
      return { name, nodeId: this.nodeId, isMaster: false, term: last?.term ?? 0 };
    });
  }

  /** With `failFast`, waits for the store first: the app's start fails, naming the cause. */
  async onApplicationBootstrap(): Promise<void> {
    await this.startWhenReady();
  }

  /**
   * kettle leaves here, and `shutdownTimeout` starts: no election contends or starts a run from now
   * on, running jobs drain while their leases are renewed, then the leases are released. Nest calls
   * this before every beforeApplicationShutdown hook: an application's own wait there (a graceful
   * HTTP drain, a sleep for the load balancer) neither eats the jobs' time nor keeps a lease that
   * runs nothing, and another node takes over at once. (KettleModule is global: Nest calls this
   * after the onModuleDestroy of the application's own modules.)
   */
  async onModuleDestroy(): Promise<void> {
    await this.leaveAll();
  }

  /** Done in onModuleDestroy already; waits for it when that was not awaited. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.leaveAll();
  }

  /** Closes kettle's connections with what `shutdownTimeout` left (a short QUIT at least). */
  async onApplicationShutdown(): Promise<void> {
    this.changes.complete();
    await this.close();
  }
}

/** Nest's Logger unless the app gave its own; anything but an object is left for validation. */
function withNestLogger(options: KettleModuleOptions): KettleModuleOptions {
  if (options === null || typeof options !== 'object') return options;
  return { ...options, logger: options.logger ?? new Logger('Kettle') };
}
