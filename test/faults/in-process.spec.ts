import { afterEach, describe, expect, it } from 'vitest';
import { RedisServer } from '#tools/redis-server.js';
import { TcpProxy } from '#tools/tcp-proxy.js';
import { waitFor } from '#tools/wait.js';
import { Kettle } from '../../lib/core/index.js';
import type { KettleService, LeadershipChange } from '../../lib/index.js';
import { isChange, RunLog, startNode, uniquePrefix } from '../support/nodes.js';

const INTERVAL = 200;
const LEASE = 1500;
const RETRY = LEASE / 3;

interface TimedChange extends LeadershipChange {
  at: number;
}

describe('faults', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  async function node(
    redis: string,
    nodeId: string,
    log: RunLog,
    prefix: string,
    changes: TimedChange[],
  ) {
    const { app, kettle } = await startNode(
      {
        redis,
        keyPrefix: prefix,
        nodeId,
        interval: INTERVAL,
        allowShortInterval: true,
        leaseTtl: LEASE,
      },
      log,
    );
    cleanups.push(() => app.close());
    kettle.leadership$.subscribe(
      (change) => isChange(change) && changes.push({ ...change, at: performance.now() }),
    );
    return kettle;
  }

  /** Two nodes on a redis-server of their own. */
  async function twoNodes() {
    const server = await RedisServer.start();
    cleanups.push(() => server.kill());
    const log = new RunLog();
    const prefix = uniquePrefix();
    const changes: TimedChange[] = [];
    const nodes = [
      await node(server.url, 'a', log, prefix, changes),
      await node(server.url, 'b', log, prefix, changes),
    ];
    return { server, nodes, changes, log };
  }

  const masterOf = (nodes: KettleService[]) => {
    const masters = nodes.filter((n) => n.isMaster('job'));
    return masters.length === 1 ? masters[0] : undefined;
  };

  it('a master cut off from Redis steps down on its own clock before anyone else takes over', async () => {
    const server = await RedisServer.start();
    cleanups.push(() => server.kill());
    const proxy = await TcpProxy.start(server.port);
    cleanups.push(() => proxy.close());
    const log = new RunLog();
    log.runMs = 60_000; // a run that is still going when the partition starts
    const prefix = uniquePrefix();
    const changes: TimedChange[] = [];

    const isolated = await node(proxy.url, 'isolated', log, prefix, changes);
    await waitFor(() => isolated.isMaster('job'), 'the isolated node to lead');
    const others = [
      await node(server.url, 'b', log, prefix, changes),
      await node(server.url, 'c', log, prefix, changes),
    ];
    const run = await waitFor(() => log.runs[0], 'a run on the isolated node');

    const cutAt = performance.now();
    proxy.partition();
    log.runMs = 0;
    const newMaster = await waitFor(() => masterOf(others), 'another master', 10_000);
    const stepDown = changes.find((c) => c.nodeId === 'isolated' && !c.isMaster)!;
    const takeOver = changes.find((c) => c.nodeId === newMaster.nodeId && c.isMaster)!;

    expect(stepDown.reason).toBe('expired');
    expect(run.signal.aborted).toBe(true);
    // The safety margin: the old master gave up before the new one began.
    expect(takeOver.at).toBeGreaterThan(stepDown.at);
    expect(takeOver.term).toBeGreaterThan(stepDown.term);
    // Replaced within the lease plus one retry period.
    expect(takeOver.at - cutAt).toBeLessThan(LEASE + RETRY);
    expect(isolated.isMaster('job')).toBe(false);

    // Heal: the delayed commands land late and change nothing; there is one master again.
    proxy.heal();
    await waitFor(() => log.byNode(newMaster.nodeId).length >= 2, 'runs on the new master');
    expect(masterOf([isolated, ...others])).toBe(newMaster);
    expect(await isolated.getMaster('job')).toBe(newMaster.nodeId);
  });

  it('a frozen Redis makes the master step down before its lease ends; after it thaws there is one master', async () => {
    const { server, nodes, changes } = await twoNodes();
    const master = await waitFor(() => masterOf(nodes), 'one master');
    const term = master.term('job')!;

    const frozenAt = performance.now();
    server.pause();
    cleanups.push(() => server.resume());
    // isMaster turns false by the clock at the deadline; the change follows with the timer.
    const stepDown = await waitFor(
      () => changes.find((c) => c.nodeId === master.nodeId && !c.isMaster),
      'the master to step down',
      LEASE * 2,
    );
    expect(master.isMaster('job')).toBe(false);
    // The lease in Redis lasts LEASE from the last renewal, which was sent before the freeze.
    expect(stepDown.at - frozenAt).toBeLessThan(LEASE + 250); // give or take a late timer
    expect(stepDown.reason).toBe('expired');

    server.resume();
    const next = await waitFor(() => masterOf(nodes), 'a master after the thaw', LEASE * 3);
    expect(next.term('job')).toBeGreaterThan(term);
  });

  it('a batch answered too late steps every election in it down in time, and none starts a run after', async () => {
    const server = await RedisServer.start();
    cleanups.push(() => server.kill());
    const proxy = await TcpProxy.start(server.port);
    cleanups.push(() => proxy.close());
    const kettle = new Kettle({
      redis: proxy.url,
      keyPrefix: uniquePrefix(),
      nodeId: 'slow',
      interval: 1000,
      leaseTtl: 3000,
      logger: { log() {}, warn() {}, error() {}, debug() {} },
    });
    cleanups.push(() => kettle.stop());
    const names = Array.from({ length: 200 }, (_, i) => `job-${i}`);
    const runs: Array<{ name: string; at: number }> = [];
    const stepDowns = new Map<string, LeadershipChange & { at: number }>();
    kettle.onChange((change) => {
      if (!change.isMaster) stepDowns.set(change.name, { ...change, at: performance.now() });
    });
    for (const name of names)
      kettle.join(name, { run: () => void runs.push({ name, at: performance.now() }) });
    kettle.start();
    await waitFor(() => names.every((name) => kettle.isMaster(name)), 'every election led', 10_000);
    // Every lease command from now on answers after the lease (3 s) has ended in Redis.
    proxy.delayMs = 2000;
    const slowAt = performance.now();
    await waitFor(() => stepDowns.size === names.length, 'every master to step down', 10_000);
    // The renew deadline: four fifths of the lease from the last renewal sent, before the delay.
    const deadline = slowAt + 2400;
    for (const name of names) {
      const stepDown = stepDowns.get(name)!;
      expect(stepDown.reason).toBe('expired');
      expect(stepDown.at).toBeLessThan(deadline + 250); // give or take a late timer
    }
    expect(runs.filter((run) => run.at > deadline)).toEqual([]);
  });
});
