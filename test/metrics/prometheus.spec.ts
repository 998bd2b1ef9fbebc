import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '#tools/wait.js';
import { Kettle, type KettleLogger } from '../../lib/core/index.js';
import { kettleCollector } from '../../lib/prometheus/index.js';
import { uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

const silent: KettleLogger = { log() {}, warn() {}, error() {}, debug() {} };

/** The value of `name{election="…"}` in a scrape (the text format); undefined when absent. */
function sample(scrape: string, name: string, election: string): number | undefined {
  const line = scrape.split('\n').find((l) => l.startsWith(`${name}{election="${election}"} `));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('nestjs-kettle/prometheus against prom-client', () => {
  const kettles: Kettle[] = [];
  afterEach(async () => {
    await Promise.all(kettles.splice(0).map((kettle) => kettle.stop()));
  });

  function node(nodeId: string, keyPrefix: string): Kettle {
    const kettle = new Kettle({
      redis: SHARED_REDIS_URL,
      keyPrefix,
      nodeId,
      interval: 50,
      allowShortInterval: true,
      leaseTtl: 1500,
      logger: silent,
    });
    kettles.push(kettle);
    return kettle;
  }

  it('reports each election when scraped: is_master, term, lease left, counters, renew latency', async () => {
    const keyPrefix = uniquePrefix();
    const kettle = node('a', keyPrefix);
    const registry = new Registry();
    kettleCollector(kettle, { registry });
    kettle.join('billing', { run: () => undefined });
    kettle.join('failing', { run: () => Promise.reject(new Error('boom')) });
    kettle.start();
    await waitFor(() => (kettle.stats('failing')?.failedRuns ?? 0) >= 2, 'failed runs');
    await waitFor(() => (kettle.stats('billing')?.renewLatency.count ?? 0) >= 1, 'a renewal');

    const scrape = await registry.metrics();
    expect(sample(scrape, 'kettle_is_master', 'billing')).toBe(1);
    expect(sample(scrape, 'kettle_term', 'billing')).toBe(kettle.term('billing'));
    expect(sample(scrape, 'kettle_elected_total', 'billing')).toBe(1);
    expect(sample(scrape, 'kettle_revoked_total', 'billing')).toBe(0);
    expect(sample(scrape, 'kettle_store_errors_total', 'billing')).toBe(0);
    expect(sample(scrape, 'kettle_runs_total', 'billing')).toBeGreaterThanOrEqual(1);
    expect(sample(scrape, 'kettle_failed_runs_total', 'failing')).toBeGreaterThanOrEqual(2);
    const leaseLeft = sample(scrape, 'kettle_lease_left_seconds', 'billing')!;
    expect(leaseLeft).toBeGreaterThan(0);
    expect(leaseLeft).toBeLessThanOrEqual(1.5); // seconds, not ms
    expect(sample(scrape, 'kettle_renew_latency_p99_seconds', 'billing')).toBeGreaterThanOrEqual(0);
    expect(scrape).toContain('# TYPE kettle_is_master gauge');
    expect(scrape).toContain('# TYPE kettle_runs_total counter');

    // A follower: is_master 0, and no term.
    const follower = node('b', keyPrefix);
    const followerRegistry = new Registry();
    kettleCollector(follower, { registry: followerRegistry, prefix: 'app_kettle_' });
    follower.join('billing');
    follower.start();
    await waitFor(async () => (await follower.getMaster('billing')) === 'a', 'a as master');
    const seen = await followerRegistry.metrics();
    expect(sample(seen, 'app_kettle_is_master', 'billing')).toBe(0);
    expect(sample(seen, 'app_kettle_term', 'billing')).toBeUndefined();

    // An election the node left disappears from the next scrape.
    await kettle.leave('billing');
    const after = await registry.metrics();
    expect(sample(after, 'kettle_is_master', 'billing')).toBeUndefined();
    expect(sample(after, 'kettle_is_master', 'failing')).toBe(1);
  });

  it('removes its metrics when told to, and refuses a bad kettle, registry or prefix', async () => {
    const kettle = node('a', uniquePrefix());
    const registry = new Registry();
    const remove = kettleCollector(kettle, { registry });
    expect(registry.getSingleMetric('kettle_is_master')).toBeDefined();
    remove();
    expect(await registry.getMetricsAsJSON()).toEqual([]);
    // Registered again once removed: no clash of names.
    kettleCollector(kettle, { registry });
    // Twice on one registry: a clear error, and nothing more registered (another prefix is fine).
    const count = (await registry.getMetricsAsJSON()).length;
    expect(() => kettleCollector(kettle, { registry })).toThrow(
      'Kettle: kettleCollector(): the registry already has a metric "kettle_is_master": call the remover the first kettleCollector() returned, or give this one another prefix.',
    );
    expect((await registry.getMetricsAsJSON()).length).toBe(count);
    kettleCollector(kettle, { registry, prefix: 'other_' });
    expect((await registry.getMetricsAsJSON()).length).toBe(2 * count);

    expect(() => kettleCollector({} as never)).toThrow(
      'Kettle: invalid option "kettleCollector(kettle)": an object; expected a Kettle or KettleService.',
    );
    expect(() => kettleCollector(kettle, { registry: {} as never })).toThrow(
      'Kettle: invalid option "kettleCollector({ registry })": an object; expected a prom-client Registry.',
    );
    expect(() => kettleCollector(kettle, { registry, prefix: 'kettle-' })).toThrow(
      'Kettle: invalid option "kettleCollector({ prefix })": "kettle-"; expected letters, digits, _ and :, not starting with a digit.',
    );
  });
});
