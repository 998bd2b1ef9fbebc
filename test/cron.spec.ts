import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { sleep, waitFor } from '#tools/wait.js';
import { KettleModule, OnMaster } from '../lib/index.js';
import { Kettle, type KettleLogger, type MasterContext } from '../lib/core/index.js';
import { systemClock } from '../lib/core/utils/clock.js';
import { uniquePrefix } from './support/nodes.js';

const silent: KettleLogger = { log() {}, warn() {}, error() {}, debug() {} };

/** One run of a cron job: where, which slot, and when it started on the real clock. */
interface SlotRun {
  nodeId: string;
  slot: number;
  startedAt: number;
}

describe('@OnMaster / join with cron: each slot once', () => {
  const kettles: Kettle[] = [];
  // A Redis of its own: a slot key flushed by someone else would let a slot run twice.
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(() => server.kill());
  afterEach(async () => {
    await Promise.all(kettles.splice(0).map((kettle) => kettle.stop()));
  });

  it("a clock an hour ahead: slots on Redis's clock, none early, one warning; then set right", async () => {
    const warnings: string[] = [];
    const kettle = new Kettle({
      redis: server.url,
      keyPrefix: uniquePrefix(),
      logger: { ...silent, warn: (message: string) => void warnings.push(message) },
    });
    kettles.push(kettle);
    let offsetMs = 3_600_000;
    kettle.clock = { ...systemClock, wallNow: () => Date.now() + offsetMs };
    const runs: SlotRun[] = [];
    kettle.join('report', {
      cron: '* * * * * *',
      leaseTtl: 1500,
      run: ({ scheduledAt }: MasterContext) =>
        void runs.push({ nodeId: 'ahead', slot: scheduledAt.getTime(), startedAt: Date.now() }),
    });
    kettle.start();
    await waitFor(() => runs.length >= 3, 'runs on the store clock', 10_000);
    expect(warnings.filter((w) => /clock is \d+ ms ahead of the store's/.test(w))).toHaveLength(1);
    // NTP steps the clock back: the next answer measures it, and the slots go on.
    offsetMs = 0;
    const count = runs.length;
    await waitFor(() => runs.length >= count + 3, 'runs on the right clock', 10_000);
    const slots = runs.map((run) => run.slot);
    expect(slots).toEqual(slots.map((_, i) => slots[0] + i * 1000));
    for (const run of runs) {
      // Each slot is Redis's (this machine's) second, run at it, never before.
      expect(run.startedAt).toBeGreaterThanOrEqual(run.slot - 5);
      expect(run.startedAt - run.slot).toBeLessThan(2000);
    }
    expect(warnings.filter((w) => /ahead/.test(w))).toHaveLength(1);
  }, 30_000);

  it('gives interval runs their slot too: one interval apart on the grid', async () => {
    const kettle = new Kettle({
      redis: server.url,
      keyPrefix: uniquePrefix(),
      logger: silent,
    });
    kettles.push(kettle);
    const slots: number[] = [];
    kettle.join('tick', {
      interval: 200,
      leaseTtl: 1500,
      run: ({ scheduledAt }: MasterContext) => void slots.push(scheduledAt.getTime()),
    });
    kettle.start();
    await waitFor(() => slots.length >= 4, 'four runs');
    expect(slots.slice(1).map((slot, i) => slot - slots[i])).toEqual([200, 200, 200]);
    expect(Math.abs(slots[0] - Date.now())).toBeLessThan(2000);
  });

  it('schedule() adds a cron job at run time: each slot once across a hand-over; leave() stops it', async () => {
    const prefix = uniquePrefix();
    const runs: SlotRun[] = [];
    const nodes = ['a', 'b'].map((nodeId) => {
      const kettle = new Kettle({ redis: server.url, keyPrefix: prefix, nodeId, logger: silent });
      kettles.push(kettle);
      kettle.start();
      kettle.schedule(
        'nightly',
        { cron: '* * * * * *', leaseTtl: 1500 },
        ({ scheduledAt }) =>
          void runs.push({ nodeId, slot: scheduledAt.getTime(), startedAt: Date.now() }),
      );
      return kettle;
    });
    await waitFor(() => runs.length >= 3, 'three runs', 10_000);
    const master = nodes.find((kettle) => kettle.isMaster('nightly'))!;
    await master.leave('nightly');
    const other = nodes.find((kettle) => kettle !== master)!;
    await waitFor(() => runs.filter((run) => run.nodeId === other.nodeId).length >= 3, 'runs');
    await other.leave('nightly');
    const slots = runs.map((run) => run.slot);
    expect(slots).toEqual(slots.map((_, i) => slots[0] + i * 1000));
    // Left on both nodes: no slot runs any more (two would have come by now).
    const count = runs.length;
    await sleep(2500);
    expect(runs).toHaveLength(count);
    expect(() => other.schedule('x', {} as never, () => undefined)).toThrow(
      /invalid option "schedule\("x"\): spec": an object; expected \{ cron \} or \{ interval \}/,
    );
  }, 30_000);

  it('warns once when a node reads the schedule in another zone than the node that claimed the last slot', async () => {
    const keyPrefix = uniquePrefix();
    const runs: string[] = [];
    const warnings: string[] = [];
    const start = (nodeId: string, timeZone: string) => {
      const logger = {
        ...silent,
        warn: (line: string) => void warnings.push(`${nodeId}: ${line}`),
      };
      const kettle = new Kettle({ redis: server.url, keyPrefix, nodeId, logger });
      kettles.push(kettle);
      kettle.start();
      kettle.schedule('zoned', { cron: '* * * * * *', timeZone, leaseTtl: 1500 }, () => {
        runs.push(nodeId);
      });
      return kettle;
    };
    const a = start('a', 'UTC');
    await waitFor(() => runs.includes('a'), 'a run on a');
    await a.leave('zoned');
    start('b', 'Europe/Paris');
    await waitFor(() => runs.filter((nodeId) => nodeId === 'b').length >= 2, 'two runs on b');
    expect(warnings).toEqual([
      `b: Election "zoned": this node reads cron '* * * * * *' in Europe/Paris, but the last slot was claimed by a node reading cron '* * * * * *' in UTC; the nodes compute different slots. Give every node the same timeZone (and expression).`,
    ]);
  });

  describe('refuses bad options, naming them', () => {
    const join = (options: Record<string, unknown>) => {
      const kettle = new Kettle({ store: 'memory', keyPrefix: uniquePrefix(), logger: silent });
      kettles.push(kettle);
      return () => kettle.join('report', options);
    };

    it('interval and cron together on @OnMaster, at bootstrap', async () => {
      @Injectable()
      class Both {
        @OnMaster('report', { interval: 1000, cron: '0 0 2 * * *' })
        report(): void {}
      }
      @Module({
        imports: [KettleModule.forRoot({ store: 'memory', keyPrefix: uniquePrefix() })],
        providers: [Both],
      })
      class BothModule {}
      await expect(
        NestFactory.createApplicationContext(BothModule, { logger: false, abortOnError: false }),
      ).rejects.toThrow(
        /invalid options "@OnMaster\("report"\) on Both.report: interval" \(1000\) and "@OnMaster\("report"\) on Both.report: cron"/,
      );
    });

    it('a schedule() spec whose cron or interval is there but empty, or both or neither', () => {
      const kettle = new Kettle({ store: 'memory', keyPrefix: uniquePrefix(), logger: silent });
      kettles.push(kettle);
      const schedule = (spec: Record<string, unknown>) => () =>
        kettle.schedule('report', spec as never, () => undefined);
      expect(schedule({ cron: undefined })).toThrow(
        /invalid option "schedule\("report"\): cron": undefined; expected a cron expression/,
      );
      expect(schedule({ cron: '  ' })).toThrow(/"schedule\("report"\): cron": "  "/);
      // The words of an interval that join() or @OnMaster refuse, for any value.
      const milliseconds = 'expected a number of milliseconds from 1 to 2147483647';
      for (const interval of [undefined, -5, 0.4])
        expect(schedule({ interval })).toThrow(
          `invalid option "schedule("report"): interval": ${interval}; ${milliseconds}`,
        );
      expect(join({ interval: 0.4 })).toThrow(
        `invalid option "join("report"): interval": 0.4; ${milliseconds}`,
      );
      expect(schedule({ cron: '0 0 2 * * *', interval: undefined })).toThrow(
        /"schedule\("report"\): interval" \(undefined\) and "schedule\("report"\): cron" \("0 0 2 \* \* \*"\): set one of them, not both; remove "schedule\("report"\): interval"/,
      );
      expect(schedule({ cron: undefined, interval: 1000 })).toThrow(
        /set one of them, not both; remove "schedule\("report"\): cron"/,
      );
      expect(schedule({ leaseTtl: 1000 })).toThrow(/expected \{ cron \} or \{ interval \}/);
      expect(kettle.names()).toEqual([]);
    });

    it('interval and cron together', () => {
      expect(join({ interval: 1000, cron: '0 0 2 * * *' })).toThrow(
        /invalid options "join\("report"\): interval" \(1000\) and "join\("report"\): cron" \("0 0 2 \* \* \*"\): set one of them, not both/,
      );
    });

    it('a cron expression that cron does not take', () => {
      expect(join({ cron: '0 0 25 * * *' })).toThrow(
        /invalid option "join\("report"\): cron": "0 0 25 \* \* \*"; expected a cron expression.*out of range/,
      );
      expect(join({ cron: 'every day' })).toThrow(/invalid option "join\("report"\): cron"/);
      expect(join({ cron: 42 })).toThrow(/invalid option "join\("report"\): cron": 42/);
      // February 30th never comes.
      expect(join({ cron: '0 0 0 30 2 *' })).toThrow(/"join\("report"\): cron": "0 0 0 30 2 \*"/);
    });

    it('a time zone that does not exist, or one without cron', () => {
      expect(join({ cron: '0 0 2 * * *', timeZone: 'Europe/Pariss' })).toThrow(
        /invalid option "join\("report"\): timeZone": "Europe\/Pariss"; expected an IANA time zone/,
      );
      expect(join({ interval: 1000, timeZone: 'Europe/Paris' })).toThrow(
        /invalid option "join\("report"\): timeZone": "Europe\/Paris"; expected no value without "cron"/,
      );
    });

    it('a catchUp other than none or latest', () => {
      expect(join({ cron: '0 0 2 * * *', catchUp: 'all' })).toThrow(
        /invalid option "join\("report"\): catchUp": "all"; expected 'none' or 'latest'/,
      );
    });
  });
});
