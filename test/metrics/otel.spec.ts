import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  type DataPoint,
  MeterProvider,
  MetricReader,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '#tools/wait.js';
import { Kettle, type KettleLogger } from '../../lib/core/index.js';
import { instrumentKettle } from '../../lib/otel/index.js';
import { uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

const silent: KettleLogger = { log() {}, warn() {}, error() {}, debug() {} };

/** A reader whose collect() the test calls: the SDK's pull path, as a Prometheus exporter uses it. */
class PullReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

/** The value of metric `name` for `election` in one collection; undefined when not reported. */
function valueOf(collected: ResourceMetrics, name: string, election: string): unknown {
  for (const scope of collected.scopeMetrics) {
    for (const metric of scope.metrics) {
      if (metric.descriptor.name !== name) continue;
      const points = metric.dataPoints as DataPoint<number>[];
      return points.find((point) => point.attributes['kettle.election'] === election)?.value;
    }
  }
  return undefined;
}

describe('nestjs-kettle/otel against the OpenTelemetry SDK', () => {
  const contextManager = new AsyncLocalStorageContextManager();
  const kettles: Kettle[] = [];
  beforeAll(() => {
    // Spans are active inside a run only with a context manager, as the Node SDK registers one.
    context.setGlobalContextManager(contextManager.enable());
  });
  afterAll(() => {
    context.disable();
  });
  afterEach(async () => {
    await Promise.all(kettles.splice(0).map((kettle) => kettle.stop()));
  });

  function setup() {
    const reader = new PullReader();
    const meterProvider = new MeterProvider({ readers: [reader] });
    const exporter = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({
      spanProcessors: [new SimpleSpanProcessor(exporter)],
    });
    const kettle = new Kettle({
      redis: SHARED_REDIS_URL,
      keyPrefix: uniquePrefix(),
      nodeId: 'otel-node',
      interval: 50,
      allowShortInterval: true,
      leaseTtl: 1500,
      logger: silent,
    });
    kettles.push(kettle);
    const tracer = tracerProvider.getTracer('test');
    const stop = instrumentKettle(kettle, {
      meter: meterProvider.getMeter('nestjs-kettle'),
      tracer,
    });
    const spans = (election: string): ReadableSpan[] =>
      exporter.getFinishedSpans().filter((span) => span.name === `kettle.run ${election}`);
    return { kettle, reader, exporter, tracer, stop, spans };
  }

  it('reports each election: is_master, term, lease left, counters, renew latency', async () => {
    const { kettle, reader } = setup();
    kettle.join('billing', { run: () => undefined });
    kettle.join('failing', {
      run: () => {
        throw new Error('boom');
      },
    });
    kettle.start();
    await waitFor(() => (kettle.stats('failing')?.failedRuns ?? 0) >= 2, 'failed runs');
    await waitFor(() => (kettle.stats('billing')?.renewLatency.count ?? 0) >= 1, 'a renewal');
    const { resourceMetrics: collected, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const stats = kettle.stats('billing')!;
    expect(valueOf(collected, 'kettle.is_master', 'billing')).toBe(1);
    expect(valueOf(collected, 'kettle.term', 'billing')).toBe(kettle.term('billing'));
    expect(valueOf(collected, 'kettle.elected', 'billing')).toBe(1);
    expect(valueOf(collected, 'kettle.revoked', 'billing')).toBe(0);
    expect(valueOf(collected, 'kettle.store_errors', 'billing')).toBe(0);
    expect(valueOf(collected, 'kettle.lease_left', 'billing')).toBeGreaterThan(0);
    expect(valueOf(collected, 'kettle.runs', 'billing')).toBeGreaterThanOrEqual(1);
    expect(valueOf(collected, 'kettle.renew_latency_p99', 'billing')).toBeGreaterThanOrEqual(0);
    expect(valueOf(collected, 'kettle.failed_runs', 'failing')).toBeGreaterThanOrEqual(2);
    expect(valueOf(collected, 'kettle.failed_runs', 'billing')).toBe(stats.failedRuns);

    // A follower has no term: none is reported.
    const follower = setup();
    follower.kettle.join('failing', { run: () => undefined });
    follower.kettle.start();
    await waitFor(() => follower.kettle.stats('failing')?.isMaster === false, 'a follower');
    const seen = (await follower.reader.collect()).resourceMetrics;
    expect(valueOf(seen, 'kettle.is_master', 'failing')).toBe(0);
    expect(valueOf(seen, 'kettle.term', 'failing')).toBeUndefined();
  });

  it('makes each run a span with the election, node, term and job, active while the job runs', async () => {
    const { kettle, tracer, exporter, spans } = setup();
    kettle.join('billing', {
      run: () => tracer.startActiveSpan('charge', (span) => span.end()),
    });
    kettle.join('failing', {
      run: () => Promise.reject(new Error('boom')),
    });
    kettle.start();
    await waitFor(() => spans('billing').length >= 2 && spans('failing').length >= 1, 'spans');
    for (const span of spans('billing')) {
      expect(span.attributes).toMatchObject({
        'kettle.election': 'billing',
        'kettle.node_id': 'otel-node',
        'kettle.term': kettle.term('billing'),
        'kettle.job': "join('billing')",
        'kettle.run.outcome': 'ok',
      });
      expect(span.parentSpanContext).toBeUndefined(); // each run, a trace of its own
      expect(span.status.code).toBe(0); // UNSET
    }
    // The job's own span is a child of its run's: the run's span is active while the job runs.
    const run = spans('billing')[0];
    const children = exporter
      .getFinishedSpans()
      .filter((span) => span.parentSpanContext?.spanId === run.spanContext().spanId);
    expect(children.map((span) => span.name)).toEqual(['charge']);
    expect(children[0].spanContext().traceId).toBe(run.spanContext().traceId);

    const failed = spans('failing')[0];
    expect(failed.attributes).toMatchObject({
      'kettle.term': kettle.term('failing'),
      'kettle.run.outcome': 'error',
    });
    expect(failed.status).toEqual({ code: 2, message: 'boom' }); // ERROR
    expect(failed.events.map((event) => event.name)).toEqual(['exception']);
    expect(failed.events[0].attributes?.['exception.message']).toBe('boom');
  });

  it('stops reporting and tracing when told to, and refuses what is not a Kettle, Meter or Tracer', async () => {
    const { kettle, reader, stop, spans } = setup();
    kettle.join('billing', { run: () => undefined });
    kettle.start();
    await waitFor(() => spans('billing').length >= 1, 'a span');
    stop();
    const spanCount = spans('billing').length;
    const runs = kettle.stats('billing')!.runs;
    const reported = valueOf((await reader.collect()).resourceMetrics, 'kettle.runs', 'billing');
    await waitFor(() => kettle.stats('billing')!.runs >= runs + 3, 'more runs');
    expect(spans('billing').length).toBe(spanCount);
    const later = valueOf((await reader.collect()).resourceMetrics, 'kettle.runs', 'billing');
    expect(later).toEqual(reported);

    expect(() => instrumentKettle({} as never)).toThrow(
      'Kettle: invalid option "instrumentKettle(kettle)": an object; expected a Kettle or KettleService.',
    );
    expect(() => instrumentKettle(kettle, { meter: {} as never })).toThrow(
      'Kettle: invalid option "instrumentKettle({ meter })": an object; expected an OpenTelemetry Meter or false.',
    );
    expect(() => instrumentKettle(kettle, { meter: false, tracer: 'x' as never })).toThrow(
      'Kettle: invalid option "instrumentKettle({ tracer })": "x"; expected an OpenTelemetry Tracer or false.',
    );
  });
});
