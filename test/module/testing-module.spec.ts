import 'reflect-metadata';
import { Injectable } from '@nestjs/common';
import { Cron, ScheduleModule, Timeout } from '@nestjs/schedule';
import { Test, type TestingModule } from '@nestjs/testing';
import { waitFor } from '#tools/wait.js';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isChange } from '../support/nodes.js';
import {
  KettleService,
  type LeadershipChange,
  LeadershipEndedError,
  type MasterContext,
  OnElected,
  OnMaster,
  OnRevoked,
} from '../../lib/index.js';
import {
  KettleElectionDriver,
  KettleTestingModule,
  type KettleTestingOptions,
  OTHER_TEST_NODE,
} from '../../lib/testing/index.js';
import * as testing from '../../lib/testing/index.js';
import * as root from '../../lib/index.js';

/** The class under test, as a user would write it. */
@Injectable()
class FeedPublisher {
  readonly opened: MasterContext[] = [];
  readonly closed: LeadershipChange[] = [];
  readonly published: MasterContext[] = [];
  failNext = false;

  @OnElected('feed')
  open(context: MasterContext) {
    this.opened.push(context);
  }

  @OnMaster('feed', { interval: 50, allowShortInterval: true })
  publish(context: MasterContext) {
    this.published.push(context);
    if (this.failNext) throw new Error('publish failed');
  }

  @OnRevoked('feed')
  close(change: LeadershipChange) {
    this.closed.push(change);
  }
}

/** Leadership only, no jobs: a cache that only the master keeps warm. */
@Injectable()
class WarmCache {
  warm = false;

  @OnElected('cache')
  fill() {
    this.warm = true;
  }

  @OnRevoked('cache')
  drop() {
    this.warm = false;
  }
}

describe('a unit test with KettleTestingModule (no Redis)', () => {
  let moduleRef: TestingModule;
  let kettle: KettleElectionDriver;
  let service: KettleService;
  let feed: FeedPublisher;

  async function start(options: KettleTestingOptions = {}) {
    moduleRef = await Test.createTestingModule({
      imports: [KettleTestingModule.forRoot(options)],
      providers: [FeedPublisher, WarmCache],
    })
      .setLogger({ log() {}, error() {}, warn() {} })
      .compile();
    await moduleRef.init();
    kettle = moduleRef.get(KettleElectionDriver);
    service = moduleRef.get(KettleService);
    feed = moduleRef.get(FeedPublisher);
  }

  // A lease of a minute: no timer of the election fires within a test, so every change below is
  // the driver's doing, not a renewal that happened to come.
  beforeEach(() => start({ leaseTtl: 60_000 }));

  afterEach(() => moduleRef.close());

  it('answers to the deprecated names, which are the same objects', () => {
    expect(testing.KettleTestingController).toBe(KettleElectionDriver);
    expect(moduleRef.get(testing.KettleTestingController)).toBe(kettle);
    expect(root.KettleTestingController).toBe(KettleElectionDriver);
    expect(root.KettleTestingModule).toBe(KettleTestingModule);
    expect(root.DEFAULT_TEST_NODE_ID).toBe(testing.DEFAULT_TEST_NODE_ID);
    expect(root.OTHER_TEST_NODE).toBe(OTHER_TEST_NODE);
  });

  it('starts as follower: nothing runs until the test elects the node', async () => {
    expect(service.names().sort()).toEqual(['cache', 'feed']);
    expect(service.nodeId).toBe('test-node');
    expect(service.isMaster('feed')).toBe(false);
    expect(await kettle.runOnce('feed')).toBe(false);
    expect(feed.published).toEqual([]);
    expect(await service.getMaster('feed')).toBeNull();
  });

  it('elect, runOnce and revoke drive the handlers, the jobs and KettleService', async () => {
    const changes: LeadershipChange[] = [];
    service.leadership$.subscribe((change) => isChange(change) && changes.push(change));

    await kettle.elect('feed');
    expect(service.isMaster('feed')).toBe(true);
    const term = service.term('feed')!;
    expect(feed.opened).toEqual([
      {
        name: 'feed',
        nodeId: 'test-node',
        term,
        scheduledAt: expect.any(Date),
        signal: expect.any(AbortSignal),
        leaseValid: expect.any(Function),
        throwIfLost: expect.any(Function),
      },
    ]);
    const { leaseValid, throwIfLost } = feed.opened[0];
    expect(leaseValid()).toBe(true);
    expect(throwIfLost).not.toThrow();
    expect(await service.getMaster('feed')).toBe('test-node');

    expect(await kettle.runOnce('feed')).toBe(true);
    // The same leadership's context, with the run's own slot.
    expect(feed.published).toEqual([{ ...feed.opened[0], scheduledAt: expect.any(Date) }]);
    expect(service.stats('feed')).toMatchObject({ isMaster: true, term, elected: 1, runs: 1 });

    await kettle.revoke('feed');
    expect(service.isMaster('feed')).toBe(false);
    expect(service.term('feed')).toBeUndefined();
    expect(feed.published[0].signal.aborted).toBe(true);
    expect(leaseValid()).toBe(false);
    expect(throwIfLost).toThrow(new LeadershipEndedError('lost'));
    const revoked = { name: 'feed', nodeId: 'test-node', isMaster: false, term, reason: 'lost' };
    expect(feed.closed).toEqual([revoked]);
    expect(changes).toEqual([{ name: 'feed', nodeId: 'test-node', isMaster: true, term }, revoked]);
    expect(await service.getMaster('feed')).toBe(OTHER_TEST_NODE);
    expect(await kettle.runOnce('feed')).toBe(false);

    await kettle.elect('feed');
    expect(service.term('feed')).toBeGreaterThan(term);
    expect(feed.opened).toHaveLength(2);
    // A context belongs to its leadership: a new one does not make the old one valid again.
    expect(feed.opened[1].leaseValid()).toBe(true);
    expect(leaseValid()).toBe(false);
  });

  it('drives an election without jobs: leadership only', async () => {
    const cache = moduleRef.get(WarmCache);
    await kettle.elect('cache');
    expect(cache.warm).toBe(true);
    expect(service.isMaster('cache')).toBe(true);
    expect(await kettle.runOnce('cache')).toBe(false); // no @OnMaster: nothing to run
    expect(service.isMaster('feed')).toBe(false);
    await kettle.revoke('cache');
    expect(cache.warm).toBe(false);
    expect(service.isMaster('cache')).toBe(false);
    expect(service.stats('cache')).toMatchObject({ elected: 1, revoked: 1, runs: 0 });
  });

  it('runs the jobs only when told, however long the node leads', async () => {
    await moduleRef.close();
    await start({ leaseTtl: 300 });
    await kettle.elect('feed');
    // Renewals every 100 ms: the election loop runs, and its ticks find no run due (interval 50).
    await waitFor(() => service.stats('feed')!.renewLatency.count >= 3, 'three renewals');
    expect(service.isMaster('feed')).toBe(true);
    expect(feed.published).toEqual([]);
  });

  it('logs and counts a failing run, as in production, and resolves', async () => {
    await kettle.elect('feed');
    feed.failNext = true;
    expect(await kettle.runOnce('feed')).toBe(true);
    expect(service.stats('feed')).toMatchObject({ runs: 1, failedRuns: 1 });
    expect(service.isMaster('feed')).toBe(true);
  });

  it('follows KettleService.resign(), and can elect the node again at once', async () => {
    await kettle.elect('feed');
    await service.resign('feed');
    expect(feed.closed.map((change) => change.reason)).toEqual(['resigned']);
    expect(feed.opened[0].throwIfLost).toThrow(new LeadershipEndedError('resigned'));
    expect(await service.getMaster('feed')).toBeNull();
    await kettle.elect('feed');
    expect(service.isMaster('feed')).toBe(true);
  });

  it('checks the election names as KettleService<Names> does', async () => {
    const typed = moduleRef.get<KettleElectionDriver<'feed' | 'cache'>>(KettleElectionDriver);
    await typed.elect('feed');
    expect(service.isMaster('feed')).toBe(true);
    // @ts-expect-error 'fed' is not one of the names: npm run typecheck fails if this compiles.
    await expect(typed.revoke('fed')).rejects.toThrow(/no election "fed"/);
  });

  it('says what is missing when an election is unknown', async () => {
    await expect(kettle.elect('nope')).rejects.toThrow(
      /Kettle testing: this node has no election "nope" \(it has "feed", "cache"\).*call moduleRef.init\(\)/,
    );
  });

  it('drives elections joined at run time too', async () => {
    const terms: number[] = [];
    service.join('tenant-7', { run: ({ term }) => void terms.push(term) });
    await kettle.elect('tenant-7');
    await kettle.runOnce('tenant-7');
    expect(terms).toEqual([service.term('tenant-7')]);
  });
});

/** Scheduled methods, guarded: a unit test calls them as the schedule would. */
@Injectable()
class Reports {
  readonly ran: string[] = [];

  @Cron('0 0 * * * *')
  @OnMaster('reports')
  hourly() {
    this.ran.push('hourly');
  }

  @Timeout(3_600_000)
  @OnMaster('reports')
  warmup() {
    this.ran.push('warmup');
  }
}

describe('a guarded @Cron or @Timeout under KettleTestingModule', () => {
  afterEach(() => vi.useRealTimers());

  it('runs every call on the master, though the calls share one slot (a frozen clock)', async () => {
    // The wall clock stands still, as under fake timers: every call falls in one slot.
    vi.useFakeTimers({ toFake: ['Date'] });
    const moduleRef = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), KettleTestingModule.forRoot()],
      providers: [Reports],
    }).compile();
    await moduleRef.init();
    try {
      const reports = moduleRef.get(Reports);
      await moduleRef.get(KettleElectionDriver).elect('reports');
      await reports.hourly();
      await reports.hourly();
      await reports.warmup();
      await reports.warmup();
      expect(reports.ran).toEqual(['hourly', 'hourly', 'warmup', 'warmup']);
      expect(moduleRef.get(KettleService).stats('reports')).toMatchObject({
        runs: 4,
        repeatedSlots: 0,
      });
    } finally {
      await moduleRef.close();
    }
  });
});

describe('KettleTestingModule before init', () => {
  it('tells the test to call init() first', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [KettleTestingModule.forRoot()],
      providers: [FeedPublisher],
    }).compile();
    await expect(moduleRef.get(KettleElectionDriver).elect('feed')).rejects.toThrow(
      /moduleRef.init\(\)/,
    );
    await moduleRef.close();
  });
});
