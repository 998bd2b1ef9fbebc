import type { INestApplicationContext } from '@nestjs/common';
import calculateSlot from 'cluster-key-slot';
import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RedisCluster } from '#tools/redis-cluster.js';
import { waitFor } from '#tools/wait.js';
import {
  type AcquireResult,
  fencedGet,
  fencedSet,
  type KettleService,
  RedisStore,
} from '../../lib/index.js';
import { electionKey } from '../../lib/core/store/keys.js';
import { newLease } from '../../lib/core/store/lease.js';
import { RunLog, startNode, uniquePrefix } from '../support/nodes.js';

const INTERVAL = 200;
const LEASE = 1500;

describe('kettle on Redis Cluster (three masters)', () => {
  let cluster: RedisCluster;
  const apps: INestApplicationContext[] = [];
  const clients: Array<Redis | Cluster> = [];
  const stores: RedisStore[] = [];
  beforeAll(async () => {
    cluster = await RedisCluster.start();
  });
  afterAll(async () => {
    await cluster?.stop();
  });
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
    await Promise.all(stores.splice(0).map((store) => store.close()));
    for (const client of clients.splice(0)) client.disconnect();
  });

  /** A direct connection to one cluster node, to see where kettle's keys and clients are. */
  function nodeClient(port: number): Redis {
    const redis = new Redis({ port });
    clients.push(redis);
    return redis;
  }

  /** `job` and two more names whose slots the other masters own: one election per master. */
  async function electionsOnEveryMaster(prefix: string): Promise<Map<string, number>> {
    const owners = new Map([['job', await cluster.ownerOf(`${prefix}{job}:lock`)]]);
    for (let i = 0; owners.size < 3; i++) {
      const name = `election-${i}`;
      const owner = await cluster.ownerOf(`${prefix}{${name}}:lock`);
      if (![...owners.values()].includes(owner)) owners.set(name, owner);
    }
    return owners;
  }

  /**
   * A node as a user builds it: their own ioredis Cluster client (lazy, as apps often create it),
   * `@OnMaster('job')`, and the other elections joined at run time. Every run goes into `runs`.
   */
  async function startClusterNode(
    nodeId: string,
    prefix: string,
    names: string[],
    runs: Array<{ name: string; nodeId: string; term: number }>,
    leaseTtl = LEASE,
    balance = false,
  ): Promise<KettleService> {
    const redis = new Cluster(cluster.nodes, { lazyConnect: true });
    clients.push(redis);
    const log = new RunLog();
    const { app, kettle } = await startNode(
      {
        redis,
        keyPrefix: prefix,
        nodeId,
        interval: INTERVAL,
        allowShortInterval: true,
        leaseTtl,
        balance,
      },
      log,
      'job',
    );
    apps.push(app);
    const record = ({ name, term }: { name: string; term: number }) =>
      runs.push({ name, nodeId, term });
    log.runs.push = (...records) => {
      for (const r of records) record({ name: 'job', term: r.term });
      return 0;
    };
    for (const name of names.filter((n) => n !== 'job')) kettle.join(name, { run: record });
    return kettle;
  }

  /**
   * Until each node's release subscription is on some cluster node: a connection's name shows as
   * soon as it connects; `sub=1` only once SUBSCRIBE has run.
   */
  async function waitUntilSubscribed(nodeIds: string[]): Promise<void> {
    const subscribed = (list: string, nodeId: string) =>
      list
        .split('\n')
        .some((line) => line.includes(`kettle-sub:${nodeId} `) && / sub=[1-9]/.test(line));
    const nodes = cluster.servers.map(({ port }) => nodeClient(port));
    await waitFor(async () => {
      const lists = await Promise.all(nodes.map(async (node) => String(await node.client('LIST'))));
      return nodeIds.every((id) => lists.some((list) => subscribed(list, id)));
    }, 'the followers to subscribe');
  }

  const masterOf = (nodes: KettleService[], name: string) => {
    const masters = nodes.filter((node) => node.isMaster(name));
    return masters.length === 1 ? masters[0] : null;
  };

  it('elects one master per election, with the elections on different cluster masters', async () => {
    const prefix = uniquePrefix();
    const owners = await electionsOnEveryMaster(prefix);
    const names = [...owners.keys()];
    expect(new Set(owners.values()).size).toBe(3);
    const runs: Array<{ name: string; nodeId: string; term: number }> = [];
    const nodes: KettleService[] = [];
    for (const id of ['c1', 'c2', 'c3'])
      nodes.push(await startClusterNode(id, prefix, names, runs));

    for (const name of names) {
      const master = await waitFor(() => masterOf(nodes, name), `one master of ${name}`);
      await waitFor(() => runs.filter((r) => r.name === name).length >= 2, `runs of ${name}`);
      const ranOn = new Set(runs.filter((r) => r.name === name).map((r) => r.nodeId));
      expect(ranOn).toEqual(new Set([master.nodeId]));
      for (const node of nodes) expect(await node.getMaster(name)).toBe(master.nodeId);
      // Lock and term live on the master that owns the hash tag's slot: the scripts ran there,
      // each with all its keys in that one slot.
      const owner = nodeClient(owners.get(name)!);
      expect(await owner.get(`${prefix}{${name}}:lock`)).toContain(master.nodeId);
      expect(Number(await owner.get(`${prefix}{${name}}:term`))).toBe(master.term(name));
    }
    // Each node marks its id (to notice a duplicate) on the master that owns that key's slot.
    for (const id of ['c1', 'c2', 'c3']) {
      const key = `${prefix}node:{${id}}`;
      const owner = nodeClient(await cluster.ownerOf(key));
      await waitFor(async () => (await owner.exists(key)) === 1, `the presence key of ${id}`);
    }
  });

  it('elects, runs and hands over elections whose names or prefix hold braces, each in one slot', async () => {
    // `}x` ended the hash tag at once (an empty tag: each key hashed whole, CROSSSLOT); a prefix
    // with a tag of its own, or an open brace, must still keep each election's keys together.
    const lease = 20_000;
    const cases: Array<[string, string[]]> = [
      [uniquePrefix(), ['}x', '{}', 'a{b}c', '%7D']],
      [`${uniquePrefix()}app{x}:`, ['job', '}y']],
      [`${uniquePrefix()}app{`, ['job', '}z']],
    ];
    for (const [i, [prefix, names]] of cases.entries()) {
      const runs: Array<{ name: string; nodeId: string; term: number }> = [];
      const first = await startClusterNode(`c1-${i}`, prefix, names, runs, lease);
      for (const name of names) {
        await waitFor(() => first.isMaster(name), `c1-${i} to lead ${name}`);
        await waitFor(() => runs.some((r) => r.name === name), `a run of ${name}`);
      }
      const terms = new Map(names.map((name) => [name, first.term(name)!]));
      const second = await startClusterNode(`c2-${i}`, prefix, names, runs, lease);
      await waitUntilSubscribed([`c2-${i}`]);
      // A graceful close releases each lease (a script on the election's keys) and announces it:
      // the follower takes over at once, far sooner than the lease would run out.
      const [closing] = apps.splice(apps.length - 2, 1);
      await closing.close();
      for (const name of names) {
        await waitFor(() => second.isMaster(name), `c2-${i} to take ${name} over`, lease / 4);
        expect(second.term(name)).toBeGreaterThan(terms.get(name)!);
      }
    }
  });

  it('hands every election over on shutdown through pub/sub, whichever master published the release', async () => {
    // A lease far longer than the deadline below: followers that waited for it would be too late.
    const lease = 20_000;
    const prefix = uniquePrefix();
    const owners = await electionsOnEveryMaster(prefix);
    const names = [...owners.keys()];
    const runs: Array<{ name: string; nodeId: string; term: number }> = [];
    const first = await startClusterNode('c1', prefix, names, runs, lease);
    for (const name of names) await waitFor(() => first.isMaster(name), `c1 to lead ${name}`);
    const terms = new Map(names.map((name) => [name, first.term(name)!]));
    const followers = [
      await startClusterNode('c2', prefix, names, runs, lease),
      await startClusterNode('c3', prefix, names, runs, lease),
    ];
    // Each follower has been told "held" and subscribed; it would look again only when the lease ends.
    await waitUntilSubscribed(['c2', 'c3']);

    await apps[0].close();
    for (const name of names) {
      const master = await waitFor(
        () => masterOf(followers, name),
        `a follower to take ${name} over`,
        lease / 2,
      );
      expect(master.term(name)).toBeGreaterThan(terms.get(name)!);
    }
  });

  it('balances elections whose keys sit on every master over three nodes', async () => {
    const prefix = uniquePrefix();
    const names = [...(await electionsOnEveryMaster(prefix)).keys()];
    for (let i = 0; names.length < 9; i++) names.push(`more-${i}`);
    const runs: Array<{ name: string; nodeId: string; term: number }> = [];
    const nodes = [await startClusterNode('c1', prefix, names, runs, LEASE, true)];
    for (const name of names) await waitFor(() => nodes[0].isMaster(name), `c1 to lead ${name}`);
    nodes.push(await startClusterNode('c2', prefix, names, runs, LEASE, true));
    nodes.push(await startClusterNode('c3', prefix, names, runs, LEASE, true));
    await waitFor(
      () =>
        names.every((name) => masterOf(nodes, name)) &&
        nodes.every((node) => Math.abs(node.leading().length - 3) <= 1),
      '3 ± 1 elections each',
      8 * LEASE,
    );
    // The fleet is one hash on one master: each node is in it.
    const owner = nodeClient(await cluster.ownerOf(`${prefix}fleet`));
    const fleet = await owner.hkeys(`${prefix}fleet`);
    expect(fleet.sort()).toEqual(['c1', 'c2', 'c3']);
  });

  it('fencedSet and fencedGet work through a Cluster client, sending the script in full once per master', async () => {
    const prefix = uniquePrefix();
    const redis = new Cluster(cluster.nodes);
    clients.push(redis);
    // One resource on each master.
    const keys = new Map<number, string>();
    for (let i = 0; keys.size < 3; i++) {
      const key = `${prefix}resource-${i}`;
      const owner = await cluster.ownerOf(key);
      if (!keys.has(owner)) keys.set(owner, key);
    }
    const evalCalls = async () =>
      Promise.all(cluster.servers.map((server) => server.commandCalls('eval')));
    await Promise.all(cluster.servers.map((server) => server.admin.script('FLUSH')));
    const before = await evalCalls();
    for (const key of keys.values()) {
      for (let term = 1; term <= 3; term++)
        expect(await fencedSet(redis, key, `v${term}`, term)).toBe(true);
      expect(await fencedSet(redis, key, 'stale', 2)).toBe(false);
      expect(await fencedGet(redis, key)).toEqual({ term: 3, value: 'v3' });
    }
    const after = await evalCalls();
    expect(after.map((calls, i) => calls - before[i])).toEqual([1, 1, 1]);
  });

  /** A RedisStore over a user's (lazy) Cluster client, once connected. */
  async function clusterStore(keyPrefix: string): Promise<RedisStore> {
    const client = new Cluster(cluster.nodes, { lazyConnect: true });
    clients.push(client);
    const store = new RedisStore({ connection: { client }, keyPrefix });
    stores.push(store);
    await waitFor(() => store.connected, 'the store to connect');
    return store;
  }

  /** Script calls (EVAL or EVALSHA) each master ran during `step`, in the order of `servers`. */
  async function scriptCallsDuring(step: () => Promise<unknown>): Promise<number[]> {
    const count = () =>
      Promise.all(
        cluster.servers.map(
          async (server) =>
            (await server.commandCalls('eval')) + (await server.commandCalls('evalsha')),
        ),
      );
    const before = await count();
    await step();
    const after = await count();
    return after.map((calls, i) => calls - before[i]!);
  }

  /**
   * `perSlot` election names in each of `slotsPerMaster` slots of every master. Under a prefix
   * without braces an election's slot is its name's alone, so the search always finds the same.
   */
  async function electionsSharingSlots(
    prefix: string,
    slotsPerMaster: number,
    perSlot: number,
  ): Promise<Array<{ slot: number; owner: number; names: string[] }>> {
    const candidates = new Map<number, string[]>();
    const chosen: Array<{ slot: number; owner: number; names: string[] }> = [];
    const wanted = slotsPerMaster * cluster.servers.length;
    for (let i = 0; chosen.length < wanted; i++) {
      const name = `election-${i}`;
      const lock = electionKey(prefix, name, 'lock');
      const slot = calculateSlot(lock);
      const names = [...(candidates.get(slot) ?? []), name];
      candidates.set(slot, names);
      if (names.length !== perSlot) continue;
      const owner = await cluster.ownerOf(lock);
      if (chosen.filter((c) => c.owner === owner).length < slotsPerMaster)
        chosen.push({ slot, owner, names });
    }
    return chosen;
  }

  it('sends the acquires of one turn as one script call per slot, on the master owning it', async () => {
    const prefix = uniquePrefix();
    // Two slots per master, eleven elections in each: one to warm up with, ten measured.
    const groups = await electionsSharingSlots(prefix, 2, 11);
    const names = groups.flatMap((group) => group.names.slice(1));
    expect(names).toHaveLength(60);
    const slots = new Set(names.map((name) => calculateSlot(electionKey(prefix, name, 'lock'))));
    expect(slots.size).toBe(6);
    const store = await clusterStore(prefix);
    // An EVALSHA refused with NOSCRIPT (before the script is sent in full) counts as a call too:
    // one call per slot first leaves the script known on each master, so only batches are counted.
    for (const group of groups) {
      const warmUp = await store.acquire(group.names[0]!, newLease('warm-up', 30_000), 30_000);
      expect(warmUp.acquired).toBe(true);
    }

    let results: AcquireResult[] = [];
    const calls = await scriptCallsDuring(async () => {
      results = await Promise.all(
        names.map((name) => store.acquire(name, newLease('n1', 30_000), 30_000)),
      );
    });
    expect(results.every((result) => result.acquired && result.term > 0)).toBe(true);
    expect(calls.reduce((sum, n) => sum + n, 0)).toBe(slots.size);
    const slotsOf = (port: number) => groups.filter((group) => group.owner === port).length;
    expect(calls).toEqual(cluster.servers.map((server) => slotsOf(server.port)));
  });

  it('sends the leases of every election as one call when the key prefix holds a hash tag', async () => {
    const prefix = `${uniquePrefix()}app{batch}:`;
    const names = Array.from({ length: 60 }, (_, i) => `election-${i}`);
    const locks = names.map((name) => electionKey(prefix, name, 'lock'));
    expect(new Set(locks.map((lock) => calculateSlot(lock))).size).toBe(1);
    const owner = await cluster.ownerOf(locks[0]!);
    const onOwnerOnly = cluster.servers.map((server) => (server.port === owner ? 1 : 0));
    const store = await clusterStore(prefix);
    // As above: the script is known on the owner's connection before anything is measured.
    expect((await store.acquire('warm-up', newLease('warm-up', 30_000), 30_000)).acquired).toBe(
      true,
    );

    const leases = names.map(() => newLease('n1', 30_000));
    let results: AcquireResult[] = [];
    const acquires = await scriptCallsDuring(async () => {
      results = await Promise.all(names.map((name, i) => store.acquire(name, leases[i]!, 30_000)));
    });
    expect(results.every((result) => result.acquired && result.term > 0)).toBe(true);
    expect(acquires).toEqual(onOwnerOnly);

    let renewed: boolean[] = [];
    const renewals = await scriptCallsDuring(async () => {
      renewed = await Promise.all(names.map((name, i) => store.renew(name, leases[i]!, 30_000)));
    });
    expect(renewed).toEqual(names.map(() => true));
    expect(renewals).toEqual(onOwnerOnly);
  });

  it('leads an election again, in a higher term, after the master owning its slot dies and comes back empty', async () => {
    const prefix = uniquePrefix();
    const owners = await electionsOnEveryMaster(prefix);
    const names = [...owners.keys()];
    const runs: Array<{ name: string; nodeId: string; term: number }> = [];
    const nodes = [
      await startClusterNode('c1', prefix, names, runs),
      await startClusterNode('c2', prefix, names, runs),
    ];
    const before = new Map<string, number>();
    for (const name of names) {
      const master = await waitFor(() => masterOf(nodes, name), `one master of ${name}`);
      before.set(name, master.term(name)!);
    }

    const [lost] = names.filter((name) => name !== 'job');
    const victim = cluster.servers.find((server) => server.port === owners.get(lost))!;
    await victim.kill();
    await waitFor(() => masterOf(nodes, lost) === null, `the master of ${lost} to step down`);
    // Same port and node file, no data: the node takes its slots back, its keys are gone.
    await victim.start();
    await cluster.waitUntilOk();

    const relected = await waitFor(() => {
      const master = masterOf(nodes, lost);
      return master && master.term(lost)! > before.get(lost)! ? master : null;
    }, `a new leadership of ${lost}, in a term above the lost one`);
    expect(relected.term(lost)).toBeGreaterThan(before.get(lost)!);
    // The other elections live on other masters: they kept leading (or, had the cluster gone
    // down meanwhile, lead again), and every election runs its job in its current term.
    for (const name of names) {
      const master = await waitFor(() => masterOf(nodes, name), `one master of ${name}`);
      expect(master.term(name)).toBeGreaterThanOrEqual(before.get(name)!);
      await waitFor(
        () => runs.some((r) => r.name === name && r.term === master.term(name)),
        `a run of ${name} in its current term`,
      );
    }
    for (const node of nodes) expect(node.names().sort()).toEqual([...names].sort());
  });
});
