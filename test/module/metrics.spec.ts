import 'reflect-metadata';
import { afterEach, describe, expect, it } from 'vitest';
import type { INestApplicationContext } from '@nestjs/common';
import { TcpProxy } from '#tools/tcp-proxy.js';
import { waitFor } from '#tools/wait.js';
import type { KettleModuleOptions, KettleService } from '../../lib/index.js';
import { LatencyWindow } from '../../lib/core/election/latency-window.js';
import { RunLog, startNode, uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

const LEASE = 1500;

describe('KettleService.stats() and metrics() on Redis', () => {
  const apps: INestApplicationContext[] = [];
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });

  async function node(options: KettleModuleOptions): Promise<KettleService> {
    const { app, kettle } = await startNode(
      { interval: 200, allowShortInterval: true, leaseTtl: LEASE, ...options },
      new RunLog(),
      'metered',
    );
    apps.push(app);
    return kettle;
  }

  it('report counters, role, lease left and renew latency per election, all in one call', async () => {
    const prefix = uniquePrefix();
    const first = await node({ redis: SHARED_REDIS_URL, keyPrefix: prefix, nodeId: 'm1' });
    const second = await node({ redis: SHARED_REDIS_URL, keyPrefix: prefix, nodeId: 'm2' });
    const nodes = [first, second];
    const master = await waitFor(() => nodes.find((n) => n.isMaster('metered')), 'a master');
    const follower = nodes.find((n) => n !== master)!;
    master.join('joined');
    await waitFor(() => master.stats('metered')!.renewLatency.count >= 3, 'three extensions');
    await waitFor(() => master.stats('metered')!.runs >= 2, 'two runs');

    const stats = master.stats('metered')!;
    expect(stats).toMatchObject({
      name: 'metered',
      isMaster: true,
      term: master.term('metered'),
      elected: 1,
      revoked: 0,
      failedRuns: 0,
      storeErrors: 0,
    });
    expect(stats.leaseLeftMs).toBeGreaterThan(0);
    expect(stats.leaseLeftMs).toBeLessThanOrEqual(LEASE);
    const { lastMs, p50Ms, p99Ms, count } = stats.renewLatency;
    expect(count).toBeGreaterThanOrEqual(3);
    expect(lastMs).toBeGreaterThan(0);
    expect(p50Ms).toBeGreaterThan(0);
    expect(p99Ms).toBeGreaterThanOrEqual(p50Ms!);

    // A follower has no lease and has extended none.
    expect(follower.stats('metered')).toMatchObject({
      name: 'metered',
      isMaster: false,
      term: null,
      leaseLeftMs: 0,
      elected: 0,
      runs: 0,
      renewLatency: { lastMs: null, p50Ms: null, p99Ms: null, count: 0 },
    });

    const all = master.metrics();
    expect(all.map((election) => election.name).sort()).toEqual(['joined', 'metered']);
    const metered = all.find((election) => election.name === 'metered')!;
    expect(metered).toMatchObject({ isMaster: true, term: stats.term, elected: 1 });
    expect(metered.runs).toBeGreaterThanOrEqual(stats.runs);
    // Plain data: it survives JSON (for a status endpoint) unchanged.
    expect(JSON.parse(JSON.stringify(all))).toEqual(all);
    // A name never joined is a typo: it throws, listing the known ones.
    expect(() => master.stats('unknown')).toThrow(
      /no election "unknown"; it knows "metered", "joined"/,
    );
  });

  it('measure the round trip to Redis, not a local figure', async () => {
    const proxy = await TcpProxy.start(Number(new URL(SHARED_REDIS_URL).port || 6379));
    proxies.push(proxy);
    proxy.delayMs = 40; // each way: every round trip takes at least 80 ms
    const kettle = await node({ redis: proxy.url, keyPrefix: uniquePrefix(), nodeId: 'slow' });
    await waitFor(() => kettle.isMaster('metered'), 'master through the proxy');
    await waitFor(() => kettle.stats('metered')!.renewLatency.count >= 3, 'three extensions');
    const { lastMs, p50Ms } = kettle.stats('metered')!.renewLatency;
    expect(p50Ms).toBeGreaterThanOrEqual(75);
    expect(lastMs).toBeGreaterThanOrEqual(75);
  });
});

describe('LatencyWindow', () => {
  it('keeps the latest samples only, for percentiles in bounded memory', () => {
    const window = new LatencyWindow(100);
    expect(window.snapshot()).toEqual({ lastMs: null, p50Ms: null, p99Ms: null, count: 0 });
    for (let ms = 1; ms <= 250; ms++) window.record(ms);
    // The window holds 151..250: nearest ranks 50 and 99 of those.
    expect(window.snapshot()).toEqual({ lastMs: 250, p50Ms: 200, p99Ms: 249, count: 250 });
  });
});
