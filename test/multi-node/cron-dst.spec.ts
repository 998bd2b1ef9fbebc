import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { waitFor } from '#tools/wait.js';
import { RedisStore } from '../../lib/index.js';
import { CronSchedule } from '../../lib/core/election/schedule.js';
import { newLease } from '../../lib/core/store/lease.js';

const MINUTE = 60_000;
const at = (iso: string) => Date.parse(iso);

/**
 * Daylight-saving changes in Europe/Paris, on a controlled clock: the slots a master claims are
 * computed as the election computes them (CronSchedule.dueSlot at each tick, the next tick at the
 * next slot), and claimed in Redis. A new master takes over every `handOverMs` with no memory of
 * the slots (as a new node would), at every phase of the changes, so that some take over inside
 * the repeated hour. Redis decides what runs: each slot is later than the last claimed one.
 */
describe('cron slots across daylight-saving changes (Europe/Paris)', () => {
  // A Redis of its own: its lease and slots must stay put for the whole walk.
  let server: RedisServer;
  beforeAll(async () => {
    server = await RedisServer.start();
  });
  afterAll(() => server.kill());

  async function claimed(expression: string, fromIso: string, toIso: string, handOverMs: number) {
    const schedule = new CronSchedule(expression, 'Europe/Paris');
    const prefixed = new RedisStore({
      connection: { url: server.url },
      keyPrefix: `test:${randomBytes(4).toString('hex')}:`,
    });
    await waitFor(() => prefixed.connected, 'the store to connect');
    const lease = newLease('a', 5000);
    await prefixed.acquire('dst', lease, 60_000);
    // The slots are in the past on Redis's clock: a grace that covers them, so that only the
    // order of the slots decides.
    const grace = { graceMs: Date.now(), catchUp: true, keepMs: 60_000 };
    const runs: number[] = [];
    const end = at(toIso);
    let term = 0;
    try {
      for (let start = at(fromIso); start < end; start += handOverMs) {
        // A new master, with a term of its own: it knows no slot, and leads until the next
        // hand-over.
        const options = { ...grace, term: ++term };
        let lastSlot: number | undefined;
        let now = start;
        while (now < Math.min(start + handOverMs, end)) {
          const slot = schedule.dueSlot(now, lastSlot);
          if (slot !== undefined) {
            const claim = await prefixed.claimSlot('dst', lease, slot, 60_000, options);
            if (claim.outcome === 'run') runs.push(slot);
            lastSlot = claim.outcome === 'already-ran' ? Math.max(claim.lastSlotMs, slot) : slot;
            continue;
          }
          now = schedule.nextAfter(Math.max(now, lastSlot ?? now));
        }
      }
    } finally {
      await prefixed.close();
    }
    return runs.map((ms) => new Date(ms).toISOString());
  }

  it('runs a daily 02:30 job once on the day clocks go back, and once on the day they go forward', async () => {
    // 2025-10-26: 03:00 CEST becomes 02:00 CET, so 02:30 comes twice; only the first runs.
    // The first master runs the latest slot due (the grace here covers every slot).
    expect(
      await claimed('0 30 2 * * *', '2025-10-25T12:00Z', '2025-10-27T12:00Z', 17 * MINUTE),
    ).toEqual(['2025-10-25T00:30:00.000Z', '2025-10-26T00:30:00.000Z', '2025-10-27T01:30:00.000Z']);
    // 2025-03-30: 02:00 CET becomes 03:00 CEST, so 02:30 never comes; it runs at the change.
    expect(
      await claimed('0 30 2 * * *', '2025-03-29T12:00Z', '2025-03-31T12:00Z', 17 * MINUTE),
    ).toEqual(['2025-03-29T01:30:00.000Z', '2025-03-30T01:00:00.000Z', '2025-03-31T00:30:00.000Z']);
  }, 60_000);

  it('runs an every-30-minutes job every 30 minutes of real time through both changes', async () => {
    for (const [from, to] of [
      ['2025-10-25T22:00Z', '2025-10-26T04:00Z'],
      ['2025-03-29T23:00Z', '2025-03-30T04:00Z'],
    ]) {
      const expected: string[] = [];
      for (let ms = at(from); ms < at(to); ms += 30 * MINUTE)
        expected.push(new Date(ms).toISOString());
      expect(await claimed('0 */30 * * * *', from, to, 13 * MINUTE)).toEqual(expected);
    }
  }, 60_000);
});
