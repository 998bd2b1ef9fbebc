import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { type Observable, Subject } from 'rxjs';
import { Election } from './election/election.js';
import type { ElectionDeclaration } from './election/election-config.js';
import { electionStats } from './election/election-stats.js';
import { electionTiming } from './election/timing.js';
import type { ElectionStats } from './interfaces/election-stats.interface.js';
import type { ElectionOptions } from './interfaces/kettle-module-options.interface.js';
import type { LeadershipChange } from './interfaces/leadership-change.interface.js';
import type { MasterContext } from './interfaces/master-context.interface.js';
import { nonEmptyString, type ResolvedKettleOptions, resolveElection } from './kettle-options.js';
import { KETTLE_RESOLVED_OPTIONS, KETTLE_STORE } from './kettle.constants.js';
import { alreadyJoined, invalidRun, notJoined, shuttingDown } from './kettle.messages.js';
import type { KettleStore } from './store/kettle-store.interface.js';

/** `KettleService.join(name, options)`: an election joined at run time. */
export interface JoinOptions extends ElectionOptions {
  /** Runs on the master every interval, like an `@OnMaster` method. */
  run?: (context: MasterContext) => unknown;
}

/** Who leads: the injectable public face of kettle. */
@Injectable()
export class KettleService
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('Kettle');
  private readonly elections = new Map<string, Election>();
  private readonly changes = new Subject<LeadershipChange>();
  private phase: 'init' | 'running' | 'closing' = 'init';

  /** Every change of this node's role, per election. */
  readonly leadership$: Observable<LeadershipChange> = this.changes.asObservable();

  constructor(
    @Inject(KETTLE_RESOLVED_OPTIONS) private readonly options: ResolvedKettleOptions,
    @Inject(KETTLE_STORE) private readonly store: KettleStore,
  ) {}

  /** This node's id, as the other nodes see it. */
  get nodeId(): string {
    return this.options.nodeId;
  }

  /** True only while this node holds an unexpired lease on `name` (a local check, no round trip). */
  isMaster(name: string): boolean {
    return this.elections.get(name)?.isMaster ?? false;
  }

  /** The fencing token of this node's current leadership of `name`, or undefined when not master. */
  term(name: string): number | undefined {
    return this.elections.get(name)?.term;
  }

  /** The node id that holds `name` now, read from the store; null when nobody does. */
  getMaster(name: string): Promise<string | null> {
    return this.store.holder(nonEmptyString('name', name));
  }

  /** The names this node contends for. */
  names(): string[] {
    return [...this.elections.keys()];
  }

  /**
   * Counters, role, lease left and renew latency of this node's election `name`, or undefined when
   * it has not joined.
   */
  stats(name: string): ElectionStats | undefined {
    const election = this.elections.get(name);
    return election && electionStats(election);
  }

  /** `stats()` of every election this node takes part in, in one call: for a metrics exporter. */
  metrics(): ElectionStats[] {
    return [...this.elections.values()].map(electionStats);
  }

  /** Milliseconds of lease left on this node's clock (0 when not master). */
  leaseLeft(name: string): number {
    return this.elections.get(name)?.leaseLeft ?? 0;
  }

  /** Gives up leadership of `name` now: another node takes it at once; this one contends again later. */
  async resign(name: string): Promise<void> {
    const election = this.elections.get(name);
    if (!election) throw new Error(notJoined(name));
    await election.resign();
  }

  /** Joins election `name` at run time, for names not known at compile time. */
  join(name: string, options: JoinOptions = {}): void {
    const { run, ...settings } = options;
    if (run !== undefined && typeof run !== 'function') {
      throw new TypeError(invalidRun(name));
    }
    const where = `join(${JSON.stringify(name)}): `;
    this.addElection(name, { settings, jobs: run ? [{ id: `join('${name}')`, run }] : [] }, where);
  }

  /** Leaves election `name`: stops contending, waits for a running job, releases the lease if held. */
  async leave(name: string): Promise<void> {
    const election = this.elections.get(name);
    if (!election) throw new Error(notJoined(name));
    // It stays listed until it has stopped, so that a shutdown meanwhile waits for it too.
    try {
      await election.stop(this.options.shutdownTimeout);
    } finally {
      if (this.elections.get(name) === election) this.elections.delete(name);
    }
  }

  /** @internal The explorer's way in, and join's: one election per name per node. */
  addElection(name: string, declaration: ElectionDeclaration, where = ''): void {
    nonEmptyString(`${where}name`, name);
    if (this.elections.has(name)) throw new Error(alreadyJoined(name));
    if (this.phase === 'closing') throw new Error(shuttingDown(name));
    const { settings, ...handlers } = declaration;
    const { interval, leaseTtl } = resolveElection(this.options, settings, where);
    const election = new Election({
      name,
      nodeId: this.options.nodeId,
      timing: electionTiming(interval, leaseTtl),
      ...handlers,
      store: this.store,
      logger: this.logger,
      verbose: this.options.verbose,
      onChange: (change) => this.changes.next(change),
    });
    this.elections.set(name, election);
    if (this.phase === 'running') election.start();
  }

  /** @internal KettleTestingController's way to the election it drives. */
  electionOf(name: string): Election | undefined {
    return this.elections.get(name);
  }

  onApplicationBootstrap(): void {
    this.phase = 'running';
    for (const election of this.elections.values()) election.start();
  }

  /** Runs before Nest closes connections: jobs drain and leases are released while Redis is still there. */
  async beforeApplicationShutdown(): Promise<void> {
    this.phase = 'closing';
    const elections = [...this.elections.values()];
    await Promise.all(elections.map((election) => election.stop(this.options.shutdownTimeout)));
    this.elections.clear();
  }

  async onApplicationShutdown(): Promise<void> {
    this.changes.complete();
    if (this.options.store.kind !== 'custom') await this.store.close();
  }
}
