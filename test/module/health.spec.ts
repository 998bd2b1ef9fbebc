import 'reflect-metadata';
import { afterEach, describe, expect, it } from 'vitest';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { waitFor } from '#tools/wait.js';
import { type ElectionHealth, KettleHealthIndicator } from '../../lib/health/index.js';
import {
  type Duration,
  KettleModule,
  type KettleModuleOptions,
  KettleService,
  OnMaster,
} from '../../lib/index.js';
import { Harness } from '../support/apps.js';
import { uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

const LEASE = 3000;

/** What GET /health answers: terminus's report, with the kettle indicator's details. */
interface HealthReport {
  status: 'ok' | 'error';
  details: {
    kettle: {
      status: 'up' | 'down';
      message?: string;
      nodeId: string;
      elections: Record<string, ElectionHealth>;
    };
  };
}

describe('KettleHealthIndicator with @nestjs/terminus', () => {
  const harness = new Harness();
  afterEach(() => harness.cleanup());

  /**
   * A user's app over HTTP: KettleModule, an `@OnMaster('job')` job when `withJob`, and a health
   * module wired as docs/METRICS-AND-HEALTH.md says (TerminusModule, a controller, the indicator
   * in providers).
   */
  async function node(
    options: KettleModuleOptions,
    { withJob = true, timeout = 5000 }: { withJob?: boolean; timeout?: Duration } = {},
  ) {
    @Controller('health')
    class HealthController {
      constructor(
        private readonly health: HealthCheckService,
        private readonly kettle: KettleHealthIndicator,
      ) {}

      @Get()
      @HealthCheck()
      check() {
        return this.health.check([() => this.kettle.isHealthy('kettle', { timeout })]);
      }
    }
    @Module({
      imports: [TerminusModule],
      controllers: [HealthController],
      providers: [KettleHealthIndicator],
    })
    class HealthModule {}

    @Injectable()
    class Job {
      @OnMaster('job')
      run() {}
    }
    @Module({
      imports: [
        KettleModule.forRoot({
          interval: 200,
          allowShortInterval: true,
          leaseTtl: LEASE,
          ...options,
        }),
        HealthModule,
      ],
      providers: withJob ? [Job] : [],
    })
    class AppModule {}

    const app = await NestFactory.create(AppModule, { logger: false });
    harness.defer(() => app.close());
    await app.listen(0, '127.0.0.1');
    const url = `${await app.getUrl()}/health`;
    /** GET /health: the HTTP status and terminus's report. */
    const probe = async () => {
      const response = await fetch(url);
      return { status: response.status, report: (await response.json()) as HealthReport };
    };
    type Answer = Awaited<ReturnType<typeof probe>>;
    /** Probes until an answer passes `accept`, and returns that answer. */
    const probeUntil = (accept: (answer: Answer) => boolean, what: string) =>
      waitFor(async () => {
        const answer = await probe();
        return accept(answer) ? answer : undefined;
      }, what);
    return { app, kettle: app.get(KettleService), probe, probeUntil };
  }

  it('is up on master and follower alike, with each election as the node and the store see it', async () => {
    const keyPrefix = uniquePrefix();
    const first = await node({ redis: SHARED_REDIS_URL, keyPrefix, nodeId: 'h1' });
    const second = await node({ redis: SHARED_REDIS_URL, keyPrefix, nodeId: 'h2' });
    const master = await waitFor(
      () => [first, second].find((n) => n.kettle.isMaster('job')),
      'a master',
    );
    const follower = master === first ? second : first;

    const fromMaster = await master.probe();
    expect(fromMaster.status).toBe(200);
    expect(fromMaster.report.status).toBe('ok');
    const masterView = fromMaster.report.details.kettle;
    expect(masterView).toMatchObject({
      status: 'up',
      nodeId: master.kettle.nodeId,
      elections: {
        job: { role: 'master', term: master.kettle.term('job'), master: master.kettle.nodeId },
      },
    });
    expect(masterView.elections.job!.leaseLeftMs).toBeGreaterThan(0);
    expect(masterView.elections.job!.leaseLeftMs).toBeLessThanOrEqual(LEASE);

    const fromFollower = await follower.probe();
    expect(fromFollower.status).toBe(200);
    expect(fromFollower.report.details.kettle).toEqual({
      status: 'up',
      nodeId: follower.kettle.nodeId,
      elections: {
        job: { role: 'follower', term: null, master: master.kettle.nodeId, leaseLeftMs: 0 },
      },
    });
  });

  it('is up with no election joined, and reports an election joined at run time', async () => {
    const { kettle, probe, app } = await node(
      { redis: SHARED_REDIS_URL, keyPrefix: uniquePrefix(), nodeId: 'idle' },
      { withJob: false },
    );
    expect(await probe()).toMatchObject({
      status: 200,
      report: { details: { kettle: { status: 'up', nodeId: 'idle', elections: {} } } },
    });

    kettle.join('late');
    await waitFor(() => kettle.isMaster('late'), 'master of the late election');
    expect((await probe()).report.details.kettle.elections).toMatchObject({
      late: { role: 'master', master: 'idle' },
    });
    // Any key the caller picks names the result.
    const custom = await app.get(KettleHealthIndicator).isHealthy('leases');
    expect(custom.leases).toMatchObject({ status: 'up', nodeId: 'idle' });
    // A timeout that is no duration is the caller's mistake, named.
    await expect(
      app.get(KettleHealthIndicator).isHealthy('leases', { timeout: 'soon' as never }),
    ).rejects.toThrow(/invalid option "timeout": "soon"; expected a duration/);
  });

  it('is down while its Redis is gone or hung, with the reason, and up again when it is back', async () => {
    const server = await harness.server();
    const { kettle, probeUntil } = await node(
      { redis: server.url, keyPrefix: uniquePrefix(), nodeId: 'alone' },
      { timeout: '300ms' },
    );
    await waitFor(() => kettle.isMaster('job'), 'master');
    await probeUntil((answer) => answer.status === 200, 'up');

    await server.kill();
    const gone = await probeUntil((answer) => answer.status === 503, 'down after Redis was killed');
    expect(gone.report.status).toBe('error');
    const goneView = gone.report.details.kettle;
    expect(goneView).toMatchObject({ status: 'down', nodeId: 'alone' });
    expect(goneView.message).toBeTruthy();
    // The node's own view stays; who holds the lease is unknown without the store.
    expect(Object.keys(goneView.elections)).toEqual(['job']);
    expect(goneView.elections.job).not.toHaveProperty('master');

    await server.start();
    const back = await probeUntil(
      (answer) => answer.report.details.kettle.elections.job?.master === 'alone',
      'up and master again after Redis came back',
    );
    expect(back.status).toBe(200);
    expect(back.report.details.kettle.status).toBe('up');

    // A hung Redis keeps its connections open: only the timeout tells.
    server.pause();
    try {
      const hung = await probeUntil((answer) => answer.status === 503, 'down while Redis hangs');
      expect(hung.report.details.kettle.message).toBe(
        'Kettle: getMaster("job"): the store did not answer in time (300 ms)',
      );
    } finally {
      server.resume();
    }
    await probeUntil((answer) => answer.status === 200, 'up after Redis resumed');
  });
});
