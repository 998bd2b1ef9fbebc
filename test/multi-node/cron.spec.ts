import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { sleep, waitFor } from '#tools/wait.js';
import { Kettle, type KettleLogger, type MasterContext } from '../../lib/core/index.js';
import { systemClock } from '../../lib/core/utils/clock.js';
import { uniquePrefix } from '../support/nodes.js';

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
      allowShortInterval: true,
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
      /schedule\("x"\): invalid option "spec": an object; expected \{ cron \} or \{ interval \}/,
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
});
