import type { INestApplicationContext } from '@nestjs/common';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisSentinel } from '#tools/redis-sentinel.js';
import { sleep, waitFor } from '#tools/wait.js';
import type { KettleService, LeadershipChange } from '../../lib/index.js';
import { resolveKettleOptions } from '../../lib/core/options/resolve-options.js';
import { crashPollMs } from '../../lib/core/election/crash-watch.js';
import { isChange, RunLog, startNode, uniquePrefix } from '../support/nodes.js';

const INTERVAL = 200;
/**
 * Shorter than the sentinels' down-after-milliseconds (1000): the master steps down (at four fifths
 * of the lease) before Sentinel can promote a replica, so even a lock lost in the failover never
 * makes two masters. The same rule holds in production with the defaults (10 s lease, 30 s).
 */
const LEASE = 900;
/**
 * Longer than a planned switch takes to reach the nodes: about a second with ioredis's
 * failoverDetector (kettle's default through Sentinel); without it, until Sentinel demotes the old
 * master about 10 s later, during which the old master takes renewals that are lost.
 */
const PLANNED_LEASE = 6000;
const FAILOVER_DEADLINE_MS = 30_000;

describe('kettle on Redis Sentinel', () => {
  let topology: RedisSentinel | undefined;
  const apps: INestApplicationContext[] = [];
  const clients: Redis[] = [];
  afterEach(async () => {
    for (const client of clients.splice(0)) client.disconnect();
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await topology?.stop();
    topology = undefined;
  });

  /** Three nodes that reach Redis through the sentinels, as a user configures them. */
  async function startNodes(
    sentinel: RedisSentinel,
    log: RunLog,
    changes: LeadershipChange[],
    {
      leaseTtl = LEASE,
      balance = false,
      crashDetection = 'lease',
    }: { leaseTtl?: number; balance?: boolean; crashDetection?: 'connection' | 'lease' } = {},
  ) {
    const prefix = uniquePrefix();
    const nodes: KettleService[] = [];
    for (const nodeId of ['s1', 's2', 's3']) {
      const { app, kettle } = await startNode(
        {
          redis: { sentinels: sentinel.sentinels, name: sentinel.name },
          keyPrefix: prefix,
          nodeId,
          interval: INTERVAL,
          allowShortInterval: true,
          leaseTtl,
          balance,
          crashDetection,
        },
        log,
      );
      apps.push(app);
      kettle.leadership$.subscribe((change) => isChange(change) && changes.push(change));
      nodes.push(kettle);
    }
    return { nodes, prefix };
  }

  const masters = (nodes: KettleService[], name = 'job') =>
    nodes.filter((node) => node.isMaster(name));
  const oneMaster = (nodes: KettleService[]) =>
    waitFor(() => (masters(nodes).length === 1 ? masters(nodes)[0] : null), 'one master');
  const highestTerm = (changes: LeadershipChange[]) =>
    Math.max(...changes.filter((c) => c.isMaster).map((c) => c.term));

  function client(port: number): Redis {
    const redis = new Redis({ port });
    // Sentinel kills every client of both servers when it reconfigures them.
    redis.on('error', () => undefined);
    clients.push(redis);
    return redis;
  }

  /**
   * Every node still runs its election and reads the same master from the Redis it reaches now. A
   * read may meet a connection that is moving: each sentinel announces the switch in its own time.
   */
  async function expectAllAgreeOn(nodes: KettleService[], master: KettleService) {
    for (const node of nodes) {
      expect(node.names()).toContain('job');
      await waitFor(
        () =>
          node.getMaster('job').then(
            (id) => id === master.nodeId,
            () => false,
          ),
        `${node.nodeId} to read the master`,
      );
    }
    expect(masters(nodes)).toEqual([master]);
  }

  /** Every sentinel names the promoted replica (each learns of the switch in its own time). */
  const promoted = (sentinel: RedisSentinel) =>
    waitFor(
      async () => (await sentinel.currentMasterPort().catch(() => 0)) === sentinel.replicaPort,
      'Sentinel to promote the replica',
      FAILOVER_DEADLINE_MS,
    );

  /** After a planned failover: every node's connections are on the promoted replica. */
  async function connectionsMoved(sentinel: RedisSentinel): Promise<Redis> {
    const newMaster = client(sentinel.replicaPort);
    await waitFor(
      async () => {
        const list = String(await newMaster.client('LIST'));
        return ['s1', 's2', 's3'].every(
          (id) => list.includes(`name=kettle:${id} `) && list.includes(`name=kettle-sub:${id} `),
        );
      },
      "every node's connections on the new Redis master",
      FAILOVER_DEADLINE_MS,
    );
    return newMaster;
  }

  it('elects a master again, with a higher term, after the Redis master dies and Sentinel promotes the replica', async () => {
    topology = await RedisSentinel.start();
    const log = new RunLog();
    const changes: LeadershipChange[] = [];
    const { nodes } = await startNodes(topology, log, changes);
    await oneMaster(nodes);
    await waitFor(() => log.runs.length >= 2, 'two runs');
    const before = highestTerm(changes);

    await topology.killMaster();
    await promoted(topology);
    const run = await waitFor(
      () => log.runs.find((r) => r.term > before),
      'a run of a new term',
      FAILOVER_DEADLINE_MS,
    );
    const master = await oneMaster(nodes);
    expect(master.nodeId).toBe(run.nodeId);
    expect(master.term('job')).toBeGreaterThan(before);
    await expectAllAgreeOn(nodes, master);
    // The old master stepped down on its own clock when it could not renew.
    expect(changes.filter((c) => !c.isMaster).map((c) => c.reason)).not.toContain('lost');
  });

  it('keeps its master through a planned failover (SENTINEL FAILOVER) when the lease outlasts the switch', async () => {
    topology = await RedisSentinel.start();
    const log = new RunLog();
    const changes: LeadershipChange[] = [];
    const { nodes, prefix } = await startNodes(topology, log, changes, {
      leaseTtl: PLANNED_LEASE,
    });
    const master = await oneMaster(nodes);
    const term = master.term('job');
    await waitFor(() => log.runs.length >= 2, 'two runs');

    await topology.failover();
    const newMaster = await connectionsMoved(topology);
    const runsSoFar = log.runs.length;
    await waitFor(() => log.runs.length >= runsSoFar + 3, 'runs after the failover');
    // The lease, replicated before the switch, was still live on the new master: the same master
    // renewed it there, and nobody else ever led.
    expect(changes).toEqual([{ name: 'job', nodeId: master.nodeId, isMaster: true, term }]);
    expect(await newMaster.get(`${prefix}{job}:lock`)).toContain(master.nodeId);
    await expectAllAgreeOn(nodes, master);
  });

  it("takes no live master's lease over when Redis fails over, with crashDetection 'connection'", async () => {
    topology = await RedisSentinel.start();
    const { nodes } = await startNodes(topology, new RunLog(), [], {
      leaseTtl: PLANNED_LEASE,
      crashDetection: 'connection',
    });
    const names = ['job', ...Array.from({ length: 8 }, (_, i) => `more-${i}`)];
    for (const node of nodes) for (const name of names.slice(1)) node.join(name);
    await waitFor(
      () => names.every((name) => masters(nodes, name).length === 1),
      'a master for every election',
    );

    // Every subscription is lost with the old master. The nodes reconnect to the promoted replica
    // each in its own time, and a follower that took the silence of a master not yet subscribed
    // again for a crash would take its lease over: only a holder seen alive on the follower's
    // current connection, and silent since, is taken.
    await topology.killMaster();
    await promoted(topology);
    await sleep(PLANNED_LEASE / 2 + 5 * crashPollMs(PLANNED_LEASE));
    const takeovers = nodes.flatMap((node) => node.metrics()).map((stats) => stats.takeovers);
    expect(takeovers.reduce((sum, n) => sum + n, 0)).toBe(0);
    await waitFor(
      () => names.every((name) => masters(nodes, name).length === 1),
      'a master for every election after the failover',
    );
  }, 60_000);

  it('never hands out a lower term after failing over to a replica that missed the latest terms', async () => {
    topology = await RedisSentinel.start();
    const log = new RunLog();
    const changes: LeadershipChange[] = [];
    const { nodes, prefix } = await startNodes(topology, log, changes);
    await oneMaster(nodes);

    // Hold back the replication stream, then hand leadership over twice: new terms the replica misses.
    topology.replication!.partition();
    for (let round = 0; round < 2; round++) {
      await (await oneMaster(nodes)).resign('job');
    }
    const latest = await oneMaster(nodes);
    const highest = highestTerm(changes);
    expect(latest.term('job')).toBe(highest);
    const replicaTerm = Number(await client(topology.replicaPort).get(`${prefix}{job}:term`));
    expect(replicaTerm).toBeLessThan(highest);

    const seen = changes.length;
    await topology.killMaster();
    const next = await waitFor(
      () => changes.slice(seen).find((c) => c.isMaster),
      'a leadership on the promoted replica',
      FAILOVER_DEADLINE_MS,
    );
    await promoted(topology);
    expect(next.term).toBeGreaterThan(highest);
  });

  it('keeps leadership spread with balance through a failover of the Redis master', async () => {
    topology = await RedisSentinel.start();
    const { nodes } = await startNodes(topology, new RunLog(), [], { balance: true });
    const names = ['job', ...Array.from({ length: 8 }, (_, i) => `more-${i}`)];
    for (const node of nodes) for (const name of names.slice(1)) node.join(name);
    const spread = () =>
      names.every((name) => nodes.filter((node) => node.isMaster(name)).length === 1) &&
      nodes.every((node) => Math.abs(node.leading().length - 3) <= 1);
    await waitFor(spread, '3 ± 1 elections each', 10 * LEASE);
    const termOf = (name: string) => nodes.find((node) => node.isMaster(name))?.term(name) ?? 0;
    const before = new Map(names.map((name) => [name, termOf(name)]));

    await topology.killMaster();
    await promoted(topology);
    // Every election elected again on the promoted replica, and spread again: the fleet hash may
    // be gone with the old master, and the next beats write it again.
    const electedAgain = () => names.every((name) => termOf(name) > before.get(name)!);
    await waitFor(
      () => electedAgain() && spread(),
      '3 ± 1 each after the failover',
      FAILOVER_DEADLINE_MS,
    );
  });
});

describe('Sentinel options', () => {
  it('names the option when the sentinels or the master name are missing', () => {
    const sentinels = [{ host: '127.0.0.1', port: 26379 }];
    expect(() => resolveKettleOptions({ redis: { sentinels } })).toThrow(
      /invalid option "redis.name": undefined; expected the sentinels' name of the master/,
    );
    expect(() => resolveKettleOptions({ redis: { sentinels: [], name: 'mymaster' } })).toThrow(
      /invalid option "redis.sentinels"/,
    );
    expect(resolveKettleOptions({ redis: { sentinels, name: 'mymaster' } }).store).toEqual({
      kind: 'redis',
      connection: { options: { sentinels, name: 'mymaster' } },
    });
  });
});
