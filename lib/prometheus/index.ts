/**
 * `nestjs-kettle/prometheus`: kettle's elections as prom-client metrics, read when Prometheus
 * scrapes. It needs `prom-client` (an optional peer dependency).
 */
import { Counter, Gauge, type Registry, register } from 'prom-client';
import { ELECTION_METRICS, type ElectionMetric, type Kettle } from '../core/index.js';
import { invalidOption, metricsRegisteredTwice } from '../core/kettle.messages.js';

/** What Prometheus allows at the start of a metric name (an empty prefix too). */
const METRIC_NAME_PREFIX = /^(?:[a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

export interface KettleCollectorOptions {
  /** Where the metrics are registered: prom-client's global `register` by default. */
  readonly registry?: Registry;
  /** Put before every metric's name: `kettle_` by default. */
  readonly prefix?: string;
}

/**
 * Registers one metric per figure of `ELECTION_METRICS`, label `election`, whose `collect()` reads
 * `kettle.metrics()` when the registry is scraped: nothing to update in between, and an election
 * the node has left disappears. Durations are in seconds (`kettle_lease_left_seconds`), counters end
 * in `_total` and mirror kettle's own counts, which only go up until the process restarts, as
 * `rate()` expects. Returns the function that removes them from the registry.
 */
export function kettleCollector(kettle: Kettle, options: KettleCollectorOptions = {}): () => void {
  const { registry = register, prefix = 'kettle_' } = options ?? {};
  if (typeof kettle?.metrics !== 'function')
    throw new TypeError(
      invalidOption('kettleCollector(kettle)', kettle, 'a Kettle or KettleService'),
    );
  if (typeof registry?.registerMetric !== 'function')
    throw new TypeError(
      invalidOption('kettleCollector({ registry })', registry, 'a prom-client Registry'),
    );
  if (typeof prefix !== 'string' || !METRIC_NAME_PREFIX.test(prefix))
    throw new TypeError(
      invalidOption(
        'kettleCollector({ prefix })',
        prefix,
        'letters, digits, _ and :, not starting with a digit',
      ),
    );
  // All or nothing: a clash found halfway would leave half of them registered.
  const taken = ELECTION_METRICS.map((metric) => prometheusName(prefix, metric)).find(
    (name) => registry.getSingleMetric(name) !== undefined,
  );
  if (taken !== undefined) throw new Error(metricsRegisteredTwice(taken));
  const names = ELECTION_METRICS.map((metric) => {
    const name = prometheusName(prefix, metric);
    const inSeconds = metric.unit === 'ms';
    const values = () =>
      kettle.metrics().flatMap((stats) => {
        const value = metric.read(stats);
        if (value === null) return [];
        return [{ election: stats.name, value: inSeconds ? value / 1000 : value }];
      });
    const settings = { name, help: metric.description, labelNames: ['election'] as const };
    if (metric.kind === 'gauge') {
      new Gauge({
        ...settings,
        registers: [registry],
        collect() {
          this.reset();
          for (const { election, value } of values()) this.set({ election }, value);
        },
      });
    } else {
      new Counter({
        ...settings,
        registers: [registry],
        collect() {
          // Set to kettle's own count, which only goes up.
          this.reset();
          for (const { election, value } of values()) this.inc({ election }, value);
        },
      });
    }
    return name;
  });
  return () => {
    for (const name of names) registry.removeSingleMetric(name);
  };
}

/** `kettle_is_master`, `kettle_lease_left_seconds`, `kettle_failed_runs_total`. */
function prometheusName(prefix: string, metric: ElectionMetric): string {
  const unit = metric.unit === 'ms' ? '_seconds' : '';
  return `${prefix}${metric.name}${unit}${metric.kind === 'counter' ? '_total' : ''}`;
}
