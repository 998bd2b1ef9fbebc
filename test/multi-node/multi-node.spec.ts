import { afterEach, describe, expect, it } from 'vitest';
import type { INestApplicationContext } from '@nestjs/common';
import { sleep, waitFor } from '#tools/wait.js';
import type { KettleService, LeadershipChange } from '../../lib/index.js';
import { isChange, RunLog, startNode, uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

const INTERVAL = 300;
const LEASE = 1500;

describe('three nodes on one Redis', () => {
  const apps: INestApplicationContext[] = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function cluster(log: RunLog, prefix = uniquePrefix()) {
    const nodes: KettleService[] = [];
    for (const id of ['n1', 'n2', 'n3']) {
      const { app, kettle } = await startNode(
        {
          redis: SHARED_REDIS_URL,
          keyPrefix: prefix,
          nodeId: id,
          interval: INTERVAL,
          allowShortInterval: true,
          leaseTtl: LEASE,
        },
        log,
      );
      apps.push(app);
      nodes.push(kettle);
    }
    return nodes;
  }

  const masters = (nodes: KettleService[]) => nodes.filter((node) => node.isMaster('job'));

  it('elects exactly one master, which alone runs the job each interval', async () => {
    const log = new RunLog();
    const nodes = await cluster(log);
    const [master] = await waitFor(
      () => (masters(nodes).length === 1 ? masters(nodes) : null),
      'one master',
    );
    await waitFor(() => log.runs.length >= 5, 'five runs');
    expect(masters(nodes)).toEqual([master]);
    expect(new Set(log.runs.map((run) => run.nodeId))).toEqual(new Set([master.nodeId]));
    expect(await nodes[1].getMaster('job')).toBe(master.nodeId);
    expect(new Set(log.runs.map((run) => run.term))).toEqual(new Set([master.term('job')]));
    for (const node of nodes) if (node !== master) expect(node.term('job')).toBeUndefined();
    // Once each interval: no more runs than interval slots in the time they span (a late timer
    // shortens one gap and lengthens the next, so single gaps are not compared).
    const span = log.runs.at(-1)!.startedAt - log.runs[0].startedAt;
    expect(log.runs.length).toBeLessThanOrEqual(Math.floor(span / INTERVAL) + 2);
    expect(log.runs.length).toBeGreaterThanOrEqual(Math.floor(span / INTERVAL / 2));
  });

  it('hands over on app.close() within a fraction of a second, with a higher term and no repeated run', async () => {
    const log = new RunLog();
    const nodes = await cluster(log);
    const changes: LeadershipChange[] = [];
    for (const node of nodes)
      node.leadership$.subscribe((change) => isChange(change) && changes.push(change));
    const [first] = await waitFor(
      () => (masters(nodes).length === 1 ? masters(nodes) : null),
      'one master',
    );
    const firstTerm = first.term('job')!;
    await waitFor(() => log.runs.length >= 2, 'two runs');

    const index = nodes.indexOf(first);
    const closedAt = performance.now();
    await apps[index].close();
    apps.splice(index, 1);
    const rest = nodes.filter((node) => node !== first);
    const [second] = await waitFor(
      () => (masters(rest).length === 1 ? masters(rest) : null),
      'a new master',
      5000,
    );
    const handOverMs = performance.now() - closedAt;
    // The lease is released and announced: nobody waits for the 1500 ms TTL.
    expect(handOverMs).toBeLessThan(1000);
    expect(second.term('job')).toBeGreaterThan(firstTerm);
    expect(first.isMaster('job')).toBe(false);
    expect(changes).toContainEqual({
      name: 'job',
      nodeId: first.nodeId,
      isMaster: false,
      term: firstTerm,
      reason: 'shutdown',
    });

    const before = log.runs.length;
    await waitFor(() => log.runs.length >= before + 2, 'runs on the new master');
    const lastOld = log.byNode(first.nodeId).at(-1)!;
    const firstNew = log.byNode(second.nodeId)[0];
    // The new master continues the cadence: no run repeated right after the hand-over, none skipped.
    expect(firstNew.startedAt - lastOld.startedAt).toBeGreaterThan(INTERVAL * 0.5);
    expect(firstNew.startedAt - lastOld.startedAt).toBeLessThan(INTERVAL * 3);
  });

  it('moves leadership with resign() and keeps terms strictly increasing', async () => {
    const log = new RunLog();
    const nodes = await cluster(log);
    const terms: number[] = [];
    for (let round = 0; round < 4; round++) {
      const [master] = await waitFor(
        () => (masters(nodes).length === 1 ? masters(nodes) : null),
        'one master',
      );
      terms.push(master.term('job')!);
      await master.resign('job');
      expect(master.isMaster('job')).toBe(false);
    }
    for (let i = 1; i < terms.length; i++) expect(terms[i]).toBeGreaterThan(terms[i - 1]);
  });

  it('aborts the signal of a run when its node leaves, and releases at once', async () => {
    const log = new RunLog();
    log.runMs = 60_000;
    const nodes = await cluster(log);
    const [master] = await waitFor(
      () => (masters(nodes).length === 1 ? masters(nodes) : null),
      'one master',
    );
    const run = await waitFor(() => log.runs[0], 'a run');
    const left = performance.now();
    await master.leave('job');
    expect(run.signal.aborted).toBe(true);
    expect(master.isMaster('job')).toBe(false);
    const rest = nodes.filter((node) => node !== master);
    await waitFor(() => masters(rest).length === 1, 'a new master', 5000);
    expect(performance.now() - left).toBeLessThan(1000);
    // The node can join again under the same name, and lead again once the others leave.
    master.join('job');
    await Promise.all(rest.map((node) => node.leave('job')));
    await waitFor(() => master.isMaster('job'), 'the rejoined node to lead', 5000);
  });

  it('hears releases even through a client whose offline queue is off', async () => {
    // A long lease: a follower that polled would wait seconds; one that hears the release takes over at once.
    const prefix = uniquePrefix();
    const log = new RunLog();
    const nodes: KettleService[] = [];
    for (const id of ['q1', 'q2']) {
      const { app, kettle } = await startNode(
        {
          redis: {
            host: '127.0.0.1',
            port: Number(new URL(SHARED_REDIS_URL).port || 6379),
            enableOfflineQueue: false,
          },
          keyPrefix: prefix,
          nodeId: id,
          leaseTtl: 9000,
        },
        log,
      );
      apps.push(app);
      nodes.push(kettle);
    }
    const [first] = await waitFor(
      () => (masters(nodes).length === 1 ? masters(nodes) : null),
      'one master',
    );
    await sleep(200); // the follower's last attempt was told "held"; it now waits for the 9 s lease to end
    const index = nodes.indexOf(first);
    const closedAt = performance.now();
    await apps[index].close();
    apps.splice(index, 1);
    const other = nodes.find((node) => node !== first)!;
    await waitFor(() => other.isMaster('job'), 'the follower to take over', 5000);
    expect(performance.now() - closedAt).toBeLessThan(1000);
  });
});
