/**
 * `nestjs-kettle/otel`: kettle's elections as OpenTelemetry metrics, and each run of a master job
 * as a span. It needs `@opentelemetry/api` only (an optional peer dependency); the SDK, its
 * readers and exporters are the application's.
 */
import {
  type Attributes,
  type BatchObservableResult,
  type Meter,
  type Observable,
  type Span,
  SpanStatusCode,
  type Tracer,
  metrics,
  trace,
} from '@opentelemetry/api';
import { ELECTION_METRICS, type Kettle, type RunInfo, type RunOutcome } from '../core/index.js';
import { invalidOption } from '../core/kettle.messages.js';

/** The instrumentation scope of the meter and the tracer kettle gets when given none. */
export const KETTLE_INSTRUMENTATION_SCOPE = 'nestjs-kettle';

/** The attributes kettle sets: the election on every metric; on a run's span, all of them. */
export const KettleAttributes = {
  ELECTION: 'kettle.election',
  NODE_ID: 'kettle.node_id',
  TERM: 'kettle.term',
  JOB: 'kettle.job',
  SCHEDULED_AT: 'kettle.scheduled_at',
  /** `ok`, or `error` when the job threw or rejected. */
  OUTCOME: 'kettle.run.outcome',
} as const;

export interface KettleInstrumentationOptions {
  /** Where the metrics go: by default the global provider's meter `nestjs-kettle`; false: no metrics. */
  readonly meter?: Meter | false;
  /** Where the run spans go: by default the global provider's tracer `nestjs-kettle`; false: no spans. */
  readonly tracer?: Tracer | false;
}

/**
 * Reports `kettle`'s elections as OpenTelemetry metrics and its runs as spans; returns the function
 * that stops both. Call it once per Kettle (in Nest, with the injected `KettleService`).
 *
 * Metrics, read from `kettle.metrics()` at each collection (one observable per figure of
 * `ELECTION_METRICS`, named `kettle.<name>`, attribute `kettle.election`): gauges `kettle.is_master`,
 * `kettle.term`, `kettle.lease_left` and the renew latencies (ms); counters `kettle.elected`,
 * `kettle.revoked`, `kettle.runs`, `kettle.failed_runs`, `kettle.store_errors` and the others.
 *
 * Spans: each run of a master job (an `@OnMaster` method, a `join` or `schedule` run, a guarded
 * `@nestjs/schedule` firing) is a span `kettle.run <election>`, the root of a trace of its own and
 * active while the job runs (its own spans are children), with the election, node id, term, job
 * and slot, and the outcome: status ERROR and the exception when the job threw.
 */
export function instrumentKettle(
  kettle: Kettle,
  options: KettleInstrumentationOptions = {},
): () => void {
  if (typeof kettle?.metrics !== 'function' || typeof kettle.onRun !== 'function')
    throw new TypeError(
      invalidOption('instrumentKettle(kettle)', kettle, 'a Kettle or KettleService'),
    );
  const meter = options?.meter ?? metrics.getMeter(KETTLE_INSTRUMENTATION_SCOPE);
  if (meter && typeof meter.addBatchObservableCallback !== 'function')
    throw new TypeError(
      invalidOption('instrumentKettle({ meter })', meter, 'an OpenTelemetry Meter or false'),
    );
  const tracer = options?.tracer ?? trace.getTracer(KETTLE_INSTRUMENTATION_SCOPE);
  if (tracer && typeof tracer.startActiveSpan !== 'function')
    throw new TypeError(
      invalidOption('instrumentKettle({ tracer })', tracer, 'an OpenTelemetry Tracer or false'),
    );
  const stops: Array<() => void> = [];
  if (meter) stops.push(observeElections(kettle, meter));
  if (tracer) stops.push(kettle.onRun((run, proceed) => traceRun(tracer, run, proceed)));
  return () => {
    for (const stop of stops.splice(0)) stop();
  };
}

function observeElections(kettle: Kettle, meter: Meter): () => void {
  const observables = ELECTION_METRICS.map((metric) => {
    const options = { description: metric.description, unit: metric.unit };
    const name = `kettle.${metric.name}`;
    const observable: Observable =
      metric.kind === 'gauge'
        ? meter.createObservableGauge(name, options)
        : meter.createObservableCounter(name, options);
    return { metric, observable };
  });
  // One read of kettle.metrics() per collection, for every figure.
  const collect = (result: BatchObservableResult) => {
    for (const stats of kettle.metrics()) {
      const attributes = { [KettleAttributes.ELECTION]: stats.name };
      for (const { metric, observable } of observables) {
        const value = metric.read(stats);
        if (value !== null) result.observe(observable, value, attributes);
      }
    }
  };
  const all = observables.map(({ observable }) => observable);
  meter.addBatchObservableCallback(collect, all);
  return () => meter.removeBatchObservableCallback(collect, all);
}

async function traceRun(
  tracer: Tracer,
  run: RunInfo,
  proceed: () => Promise<RunOutcome>,
): Promise<void> {
  const attributes: Attributes = {
    [KettleAttributes.ELECTION]: run.name,
    [KettleAttributes.NODE_ID]: run.nodeId,
    [KettleAttributes.TERM]: run.term,
    [KettleAttributes.JOB]: run.job,
    [KettleAttributes.SCHEDULED_AT]: run.scheduledAt.toISOString(),
  };
  await tracer.startActiveSpan(
    `kettle.run ${run.name}`,
    { root: true, attributes },
    async (span: Span) => {
      try {
        const outcome = await proceed();
        span.setAttribute(KettleAttributes.OUTCOME, outcome.ok ? 'ok' : 'error');
        if (!outcome.ok) failed(span, outcome.error);
      } finally {
        span.end();
      }
    },
  );
}

function failed(span: Span, error: unknown): void {
  const exception = error instanceof Error ? error : String(error);
  span.recordException(exception);
  span.setStatus({
    code: SpanStatusCode.ERROR,
    message: typeof exception === 'string' ? exception : exception.message,
  });
}
