import { Inject, Injectable } from '@nestjs/common';
import { filter, firstValueFrom, timeout } from 'rxjs';
import type { Election } from '../core/election/election.js';
import { KettleService } from '../kettle.service.js';
import { testingNotJoined, testingTimedOut } from '../core/kettle.messages.js';
import { TestingStore } from './testing-store.js';

/** Injection token of the TestingStore that KettleTestingModule gives KettleModule. */
export const KETTLE_TESTING_STORE = Symbol('KETTLE_TESTING_STORE');

/** How long `elect` and `revoke` wait for the election to follow; it takes a timer tick or two. */
const FOLLOW_MS = 5_000;

/**
 * Drives this node's elections in a unit test, without Redis: the real election loop runs against
 * a store that the test decides for. `KettleService` (`isMaster`, `term`, `leadership$`, `stats`)
 * answers as in production. `KettleElectionDriver<'billing' | 'reports'>` checks the names as
 * `KettleService<...>` does: `moduleRef.get<KettleElectionDriver<Names>>(KettleElectionDriver)`.
 */
@Injectable()
export class KettleElectionDriver<Names extends string = string> {
  constructor(
    private readonly kettle: KettleService,
    @Inject(KETTLE_TESTING_STORE) private readonly store: TestingStore,
  ) {}

  /**
   * Makes this node master of `name`. Resolves once it is, with a new term, and its `@OnElected`
   * handlers have returned. No-op when it is master already.
   */
  async elect(name: Names): Promise<void> {
    const election = this.election(name);
    if (election.isMaster) return;
    const elected = this.change(name, true, 'become master');
    await this.store.grant(name);
    election.checkLeaseNow();
    await elected;
    await election.handlersSettled();
  }

  /**
   * Gives `name` to another node (`getMaster` then says `other-node`). Resolves once this node has
   * stepped down (reason `lost`, its signal aborted) and its `@OnRevoked` handlers have returned.
   */
  async revoke(name: Names): Promise<void> {
    const election = this.election(name);
    const wasMaster = election.isMaster;
    const revoked = wasMaster ? this.change(name, false, 'step down') : undefined;
    await this.store.revoke(name);
    if (!revoked) return;
    election.checkLeaseNow();
    await revoked;
    await election.handlersSettled();
  }

  /**
   * Runs the `@OnMaster` methods of `name` once, now, with this leadership's MasterContext, after
   * the run in progress if any. Resolves when they have returned (a failure is logged and counted
   * in `stats(name).failedRuns`, as in production): true; or false, without running anything, when
   * this node is not master or the election has no `@OnMaster` method. The store never schedules
   * runs of its own: they happen only here.
   */
  runOnce(name: Names): Promise<boolean> {
    return this.election(name).runNow();
  }

  private election(name: string): Election {
    const election = this.kettle.electionOf(name);
    if (!election) throw new Error(testingNotJoined(name, this.kettle.names()));
    return election;
  }

  /** The next change of this node's role in `name` to `isMaster`; subscribed before it is caused. */
  private change(name: string, isMaster: boolean, what: string): Promise<unknown> {
    return firstValueFrom(
      this.kettle.changesFromNow$.pipe(
        filter((change) => change.name === name && change.isMaster === isMaster),
        timeout({
          first: FOLLOW_MS,
          with: () => {
            throw new Error(testingTimedOut(name, what, FOLLOW_MS));
          },
        }),
      ),
    );
  }
}

/**
 * @deprecated Use `KettleElectionDriver` (the same class: `moduleRef.get(KettleTestingController)`
 * still works). It is an injectable, not a controller: it has no routes.
 */
export const KettleTestingController = KettleElectionDriver;
/** @deprecated Use `KettleElectionDriver`. */
export type KettleTestingController = KettleElectionDriver;
