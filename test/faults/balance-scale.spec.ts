import { afterEach, describe, expect, it } from 'vitest';
import { sleep, waitFor } from '#tools/wait.js';
import { Kettle, type KettleLogger } from '../../lib/core/index.js';
import { uniquePrefix } from '../support/nodes.js';

const silent: KettleLogger = { log() {}, warn() {}, error() {}, debug() {} };
const ELECTIONS = Array.from({ length: 10_000 }, (_, i) => `job-${i}`);
const LEASE = 3000;

/**
 * 10,000 elections on one node, as the rest of kettle handles them: `balance` must not make a
 * follower's event loop pay for them (each lease it looks at again must not walk every election).
 */
describe('balance with 10,000 elections', () => {
  const nodes: Kettle[] = [];
  afterEach(async () => {
    await Promise.all(nodes.splice(0).map((node) => node.stop()));
  });

  function node(nodeId: string, prefix: string, balance: boolean): Kettle {
    const kettle = new Kettle({
      nodeId,
      keyPrefix: prefix,
      leaseTtl: LEASE,
      balance,
      logger: silent,
    });
    for (const name of ELECTIONS) kettle.join(name, { run() {} });
    kettle.start();
    nodes.push(kettle);
    return kettle;
  }

  /** The worst event-loop lag over `ms`, sampled every 10 ms. */
  async function worstLag(ms: number): Promise<number> {
    let worst = 0;
    let last = performance.now();
    const sampler = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last - 10);
      last = now;
    }, 10);
    await sleep(ms);
    clearInterval(sampler);
    return worst;
  }

  /** Node a leads all 10,000 (unbalanced); node b follows them, balanced or not. */
  async function followerLag(balance: boolean) {
    const prefix = uniquePrefix();
    const a = node('a', prefix, false);
    await waitFor(() => a.leading().length === ELECTIONS.length, 'a to lead all', 20_000);
    node('b', prefix, balance);
    await sleep(LEASE);
    const lag = await worstLag(3 * LEASE);
    return { lag, aLeads: a.leading().length };
  }

  it('without balance, a follower of 10,000 leases keeps the event loop free', async () => {
    const { lag, aLeads } = await followerLag(false);
    console.log('follower without balance:', { worstLagMs: Math.round(lag), aLeads });
    expect(lag).toBeLessThan(LEASE / 10);
  }, 60_000);

  it('with balance, a follower of 10,000 leases keeps the event loop free', async () => {
    const { lag, aLeads } = await followerLag(true);
    console.log('follower with balance:', { worstLagMs: Math.round(lag), aLeads });
    expect(lag).toBeLessThan(LEASE / 10);
  }, 60_000);
});
