import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleDestroy,
} from '@nestjs/common';
import { type Observable, Subject } from 'rxjs';
import { type JoinOptions, Kettle, type ScheduleSpec } from './core/kettle.js';
import type { Election } from './election/election.js';
import type { ElectionDeclaration } from './election/election-config.js';
import type { ElectionStats } from './interfaces/election-stats.interface.js';
import type { KettleLogger } from './interfaces/kettle-module-options.interface.js';
import type { LeadershipChange } from './interfaces/leadership-change.interface.js';
import type { MasterContext } from './interfaces/master-context.interface.js';
import type { KettleStore } from './store/kettle-store.interface.js';
import { KETTLE } from './kettle.constants.js';

export type { JoinOptions, ScheduleSpec } from './core/kettle.js';

/**
 * Who leads: the injectable public face of kettle. It is the framework-free `Kettle` of
 * `nestjs-kettle/core`, started and stopped with the application, with an Observable of changes.
 */
@Injectable()
export class KettleService
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

  constructor(@Inject(KETTLE) private readonly kettle: Kettle) {
    kettle.onChange((change) => this.changes.next(change));
  }

  /** This node's id, as the other nodes see it. */
  get nodeId(): string {
    return this.kettle.nodeId;
  }

  /** True only while this node holds an unexpired lease on `name` (a local check, no round trip). */
  isMaster(name: string): boolean {
    return this.kettle.isMaster(name);
  }

  /** The fencing token of this node's current leadership of `name`, or undefined when not master. */
  term(name: string): number | undefined {
    return this.kettle.term(name);
  }

  /** The node id that holds `name` now, read from the store; null when nobody does. */
  getMaster(name: string): Promise<string | null> {
    return this.kettle.getMaster(name);
  }

  /** The names this node contends for. */
  names(): string[] {
    return this.kettle.names();
  }

  /** Counters, role, lease left and renew latency of election `name`; undefined when not joined. */
  stats(name: string): ElectionStats | undefined {
    return this.kettle.stats(name);
  }

  /** `stats()` of every election this node takes part in, in one call: for a metrics exporter. */
  metrics(): ElectionStats[] {
    return this.kettle.metrics();
  }

  /** Milliseconds of lease left on this node's clock (0 when not master). */
  leaseLeft(name: string): number {
    return this.kettle.leaseLeft(name);
  }

  /**
   * Gives up leadership of `name`: no run starts from now on, the running one (its signal aborted)
   * gets `shutdownTimeout` to end, then the lease is released and another node takes it at once;
   * this one contends again later. `isMaster(name)` stays true until the running job has ended.
   * Resolves once the lease was released (by this, or by a stop or a loss that came first); at
   * once when this node is not master.
   */
  resign(name: string): Promise<void> {
    return this.kettle.resign(name);
  }

  /** Joins election `name` at run time, for names not known at compile time. */
  join(name: string, options: JoinOptions = {}): void {
    this.kettle.join(name, options);
  }

  /**
   * Runs `run` on the master of election `name`, on a cron schedule or every interval, with the
   * guarantees of `@OnMaster` (each slot once, whichever node leads): SchedulerRegistry.addCronJob's
   * counterpart. `leave(name)` stops it.
   */
  schedule(name: string, spec: ScheduleSpec, run: (context: MasterContext) => unknown): void {
    this.kettle.schedule(name, spec, run);
  }

  /** Leaves election `name`: stops contending, waits for a running job, releases the lease if held. */
  leave(name: string): Promise<void> {
    return this.kettle.leave(name);
  }

  /** @internal The explorer's way in: one election per name per node. */
  addElection(name: string, declaration: ElectionDeclaration, where = ''): void {
    this.kettle.addElection(name, declaration, where);
  }

  /** @internal The logger of the `logger` option (else Nest's), for the schedule guard. */
  get logger(): KettleLogger {
    return this.kettle.logger;
  }

  /** @internal Where the leases live: the explorer checks what the store can do. */
  get store(): KettleStore {
    return this.kettle.store;
  }

  /** @internal KettleTestingController's and the schedule guard's way to one election. */
  electionOf(name: string): Election | undefined {
    return this.kettle.electionOf(name);
  }

  onApplicationBootstrap(): void {
    this.kettle.start();
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
    await this.kettle.leaveAll();
  }

  /** Done in onModuleDestroy already; waits for it when that was not awaited. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.kettle.leaveAll();
  }

  /** Closes kettle's connections with what `shutdownTimeout` left (a short QUIT at least). */
  async onApplicationShutdown(): Promise<void> {
    this.changes.complete();
    await this.kettle.close();
  }
}
