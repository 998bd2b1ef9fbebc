import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { type Observable, Subject } from 'rxjs';
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

  /**
   * Every change of this node's role, per election. A subscriber that throws does not reach the
   * election, but rxjs rethrows it in a setTimeout unless `config.onUnhandledError` is set: an
   * uncaught exception, which ends the process by default. Catch in the subscriber.
   */
  readonly leadership$: Observable<LeadershipChange> = this.changes.asObservable();

  /** The options are validated here, at bootstrap: a bad one fails the app's start, naming it. */
  constructor(@Inject(KETTLE_MODULE_OPTIONS) options: KettleModuleOptions = {}) {
    super(withNestLogger(options));
    this.onChange((change) => this.changes.next(change));
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
