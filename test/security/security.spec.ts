import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '#tools/free-port.js';
import { RedisServer } from '#tools/redis-server.js';
import { type SelfSignedCertificate, selfSignedCertificate } from '#tools/tls.js';
import { waitFor } from '#tools/wait.js';
import { KettleStoreError, type KettleModuleOptions, RedisStore } from '../../lib/index.js';
import { LEASE_OPS, LEASES } from '../../lib/core/store/scripts.js';
import { newLease } from '../../lib/core/store/lease.js';

import { forRootModule, Harness, startSample, withEnv } from '../support/apps.js';
import { uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

// Passwords never appear in logs: every log line captured in this file, and the child's output.
const h = Harness.forFile();

/** Options of a node that retries every 200 ms, on keys of its own. */
const fast = (extra: KettleModuleOptions = {}): KettleModuleOptions => ({
  keyPrefix: uniquePrefix(),
  interval: 100,
  allowShortInterval: true,
  leaseTtl: 600,
  ...extra,
});
const failing = (kettle: { stats(name: string): { storeErrors: number } | undefined }) =>
  waitFor(() => kettle.stats('secure')!.storeErrors >= 3, 'failed attempts to pile up', 20_000);

describe('a wrong password', () => {
  type Form = (s: RedisServer, pw: string) => [KettleModuleOptions, Record<string, string>];
  const forms: Array<[string, string, Form]> = [
    [
      'in ioredis options',
      'WRONGPASS',
      (s, pw) => [{ redis: { ...s.redisOptions, password: pw } }, {}],
    ],
    ['in the URL', 'WRONGPASS', (s, pw) => [{ redis: `redis://:${pw}@127.0.0.1:${s.port}` }, {}]],
    [
      'in REDIS_PASSWORD + REDIS_URL',
      'WRONGPASS',
      (s, pw) => [{}, { REDIS_URL: s.url, REDIS_PASSWORD: pw }],
    ],
    [
      'in REDIS_PASSWORD + REDIS_HOST',
      'WRONGPASS',
      (s, pw) => [{}, { REDIS_HOST: `127.0.0.1:${s.port}`, REDIS_PASSWORD: pw }],
    ],
    ['(none given)', 'NOAUTH', (s) => [{ redis: s.url }, {}]],
  ];
  it.each(forms)(
    '%s: boots, a follower that keeps retrying, a clear %s error; closes cleanly',
    async (_, reason, form) => {
      const password = h.secret();
      const redis = await h.server({ args: ['--requirepass', password] });
      const [options, env] = form(redis, h.secret());
      const { kettle, runs, logs, close } = await withEnv(env, () => h.node(fast(options)));
      await failing(kettle);
      expect(kettle.isMaster('secure')).toBe(false);
      expect(runs.count).toBe(0);
      // The configuration is wrong: ERROR, once (from whichever connection met it first),
      // however often the connections retry.
      const errors = logs.lines.filter((line) => line.level === 'error');
      expect(errors.map((line) => line.message)).toEqual([
        expect.stringMatching(
          new RegExp(
            `^Redis \\((commands|subscriber)\\): Redis refused the credentials.*: ${reason}`,
          ),
        ),
      ]);
      expect(logs.text()).toMatch(/warn Election "secure": acquire failed \(.+\); retrying/);
      // A read says why, in kettle's words, with the driver's error as its cause.
      const read = await kettle.getMaster('secure').catch((error: unknown) => error);
      expect(read).toBeInstanceOf(KettleStoreError);
      expect(read).toMatchObject({ reason: 'auth', message: expect.stringContaining(reason) });
      expect((read as Error).cause).toBeInstanceOf(Error);
      await close();
      // Nothing of kettle's is left connected, nor reconnecting.
      const admin = h.client({ ...redis.redisOptions, password });
      const clients = async () => String(await admin.client('LIST')).match(/^id=/gm)?.length;
      await waitFor(async () => (await clients()) === 1, 'kettle to disconnect');
    },
  );
});

describe('an ACL user without rights', () => {
  const noCommands = ['~*', '-@all', '+ping', '+client', '+info'];
  const cases: Array<[string, string[], string[], RegExp]> = [
    ['no commands', noCommands, ['+@all'], /NOPERM .* to run the 'eval(sha)?' command/],
    ['no keys', ['~elsewhere:*', '+@all'], ['~*'], /NOPERM .* to access one of the keys/],
  ];
  async function weakNode(rules: string[]) {
    const redis = await h.server();
    const admin = h.client(redis.redisOptions);
    const [username, password, keyPrefix] = ['weak', h.secret(), uniquePrefix()];
    await admin.call('ACL', 'SETUSER', username, 'on', `>${password}`, '&*', ...rules);
    const node = await h.node(
      fast({ redis: { ...redis.redisOptions, username, password }, keyPrefix }),
    );
    const grant = (...rights: string[]) => admin.call('ACL', 'SETUSER', username, ...rights);
    return { ...node, admin, keyPrefix, grant };
  }

  it.each(cases)(
    '(%s): a clear NOPERM error, a follower that retries; master once granted, no restart',
    async (_, rules, rights, reason) => {
      const { kettle, runs, logs, close, admin, keyPrefix, grant } = await weakNode(rules);
      await failing(kettle);
      expect(kettle.isMaster('secure')).toBe(false);
      expect(runs.count).toBe(0);
      expect(logs.text()).toMatch(
        new RegExp(`warn Election "secure": acquire failed \\(${reason.source}`),
      );
      // A right missing is the configuration's: each refusal at ERROR, once.
      const errors = logs.lines.filter((l) => l.level === 'error').map((l) => l.message);
      expect(errors.length).toBeGreaterThan(0);
      expect(new Set(errors).size).toBe(errors.length);
      expect(errors.join('\n')).toMatch(reason);
      await grant(...rights);
      await waitFor(() => kettle.isMaster('secure') && runs.count > 0, 'master', 20_000);
      expect(logs.text()).toMatch(/log Election "secure": the store answers again/);
      await close();
      expect(await admin.exists(`${keyPrefix}{secure}:lock`)).toBe(0);
    },
  );

  // A SUBSCRIBE refused with NOPERM is retried: once the rights are granted the node hears
  // releases again, instead of falling back to polling for good.
  it('(no commands): after the grant, the release subscription comes back', async () => {
    const { kettle, admin, keyPrefix, grant } = await weakNode(noCommands);
    await waitFor(() => kettle.stats('secure')!.storeErrors >= 1, 'a failed attempt', 20_000);
    await grant('+@all');
    await waitFor(() => kettle.isMaster('secure'), 'master once granted', 20_000);
    const subscribers = async () =>
      ((await admin.pubsub('NUMSUB', `${keyPrefix}released`)) as [string, number])[1];
    await waitFor(async () => (await subscribers()) === 1, 'a subscriber to releases', 5_000);
  });

  // Withdrawing a channel right makes Redis drop the subscribed connection; its SUBSCRIBE on the
  // reconnect is refused. That refusal is kettle's to hear: an unhandled rejection would end a
  // process run with Node's defaults, and a subscription given up would leave only polling.
  it('(channel rights withdrawn while subscribed): no unhandled rejection; subscribed again once granted', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    h.defer(() => process.off('unhandledRejection', onUnhandled));
    const { kettle, logs, admin, keyPrefix, grant } = await weakNode(['~*', '+@all']);
    const subscribers = async () =>
      ((await admin.pubsub('NUMSUB', `${keyPrefix}released`)) as [string, number])[1];
    await waitFor(() => kettle.isMaster('secure'), 'master');
    await waitFor(async () => (await subscribers()) === 1, 'a subscriber to releases', 5_000);

    await grant('resetchannels');
    await waitFor(
      () => /error Redis \(subscriber\): .*NOPERM/.test(logs.text()),
      'the refusal in the log',
      5_000,
    );
    expect(await subscribers()).toBe(0);
    await grant('&*');
    await waitFor(async () => (await subscribers()) === 1, 'a subscriber again', 5_000);
    // Unhandled rejections surface on the next turns of the event loop.
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(unhandled).toEqual([]);
  });
});

describe('a lease another client does not hold', () => {
  it('cannot be renewed or released with another token, through RedisStore or the Lua scripts', async () => {
    const keyPrefix = uniquePrefix();
    const lock = `${keyPrefix}{secure}:lock`;
    const { kettle } = await h.node(
      fast({ redis: SHARED_REDIS_URL, keyPrefix, nodeId: 'holder', leaseTtl: 3000 }),
    );
    await waitFor(() => kettle.isMaster('secure'), 'the holder to lead');
    const raw = h.client(SHARED_REDIS_URL);
    const lease = (await raw.get(lock))!;
    // The node id and 128 random bits (16 bytes of crypto.randomBytes, in hex).
    expect(lease).toMatch(/^holder#[0-9a-f]{32}:3000$/);
    const intruder = new RedisStore({ connection: { url: SHARED_REDIS_URL }, keyPrefix });
    h.defer(() => intruder.close());
    await waitFor(() => intruder.connected, 'the intruder to connect');
    const token = lease.slice('holder#'.length);
    const guesses = [newLease('holder', 5000), `holder#${'0'.repeat(32)}`, lease.slice(0, -1)];
    guesses.push(`${lease}0`, 'holder', `holder#${token.toUpperCase()}`, 'holder#.*');
    // One lease command, straight to the script: the store adds nothing a caller could skip.
    const leases = (op: string, value: string, ttl: number | '') =>
      raw.eval(
        LEASES,
        2,
        lock,
        lock,
        `${keyPrefix}released`,
        `${keyPrefix}alive:`,
        `${op}:${ttl}::`,
        value,
        'secure',
      );
    for (const guess of guesses) {
      expect(await intruder.renew('secure', guess, 1)).toBe(false);
      expect(await intruder.release('secure', guess)).toBe(false);
      expect(await leases(LEASE_OPS.renew, guess, 1)).toEqual([0, 0, 0]);
      expect(await leases(LEASE_OPS.release, guess, '')).toEqual([0, 0, 0]);
    }
    // Nor taken over: its holder's connection did not close (and its lease names none).
    const [taken, holder] = (await leases(
      LEASE_OPS.takeOver,
      newLease('intruder', 5000),
      5000,
    )) as [number, string];
    expect([taken, holder]).toEqual([0, lease]);
    expect(await raw.get(lock)).toBe(lease);
    expect(kettle.isMaster('secure')).toBe(true);
    expect(kettle.stats('secure')).toMatchObject({ elected: 1, revoked: 0 });
    expect(await kettle.getMaster('secure')).toBe('holder');
    // The same script with the holder's own lease does renew: the guesses were real attempts.
    expect(await leases(LEASE_OPS.renew, lease, 3000)).toEqual([1, 0, 0]);
    // Every leadership gets a token of its own.
    await kettle.resign('secure');
    await waitFor(() => kettle.isMaster('secure'), 'the holder to lead again', 10_000);
    const next = (await raw.get(lock))!;
    expect(next).toMatch(/^holder#[0-9a-f]{32}:3000$/);
    expect(next).not.toBe(lease);
  });
});

describe('rediss:// against a redis-server with a self-signed certificate', () => {
  let cert: SelfSignedCertificate | undefined;
  let redis: RedisServer;
  const password = h.secret();
  beforeAll(async () => {
    cert = await selfSignedCertificate();
    // TLS only (no plain port): every connection that works below is a TLS one.
    redis = await RedisServer.start({ tls: cert, args: ['--requirepass', password] });
  });
  afterAll(async () => {
    await redis?.kill();
    await cert?.remove();
    expect(cert && existsSync(cert.dir)).toBe(false);
  });

  it('elects a master through ioredis options with tls.ca, and through a client made from a rediss:// URL', async () => {
    const keyPrefix = uniquePrefix();
    const a = await h.node(fast({ redis: { ...redis.redisOptions, password }, keyPrefix }));
    await waitFor(() => a.kettle.isMaster('secure') && a.runs.count > 0, 'a master over TLS');
    await a.close();
    const template = h.client(`rediss://:${password}@127.0.0.1:${redis.port}`, {
      tls: redis.redisOptions.tls,
    });
    const b = await h.node(fast({ redis: template, keyPrefix, nodeId: 'b' }));
    await waitFor(() => b.kettle.isMaster('secure') && b.runs.count > 0, 'a master over rediss://');
    expect(await b.kettle.getMaster('secure')).toBe('b');
    expect(b.kettle.stats('secure')!.storeErrors).toBe(0);
  });

  it('a rediss:// URL to a certificate it does not trust: a clear TLS error in the logs, a follower, no crash', async () => {
    const url = `rediss://:${password}@127.0.0.1:${redis.port}`;
    const { kettle, runs, logs, close } = await h.node(fast({ redis: url }));
    await failing(kettle);
    const errors = logs.lines.filter((line) => line.level === 'error').map((l) => l.message);
    expect(errors).toEqual([
      expect.stringMatching(
        /^Redis \((commands|subscriber)\): the TLS handshake .*self[- ]signed certificate/,
      ),
    ]);
    expect(kettle.isMaster('secure')).toBe(false);
    expect(runs.count).toBe(0);
    await close();
  });

  it('a rediss:// URL verifies once the CA is trusted (NODE_EXTRA_CA_CERTS): the sample app leads over it', async () => {
    const keyPrefix = uniquePrefix();
    const sample = startSample({
      PORT: String(await freePort()),
      // The password could as well come from REDIS_PASSWORD; in the URL it must be redacted too.
      REDIS_URL: `rediss://:${password}@127.0.0.1:${redis.port}`,
      NODE_EXTRA_CA_CERTS: cert!.ca,
      NODE_ID: 'tls-child',
      KETTLE_KEY_PREFIX: keyPrefix,
    });
    h.watch(sample);
    h.defer(() => void sample.child.kill('SIGKILL'));
    const admin = h.client({ ...redis.redisOptions, password });
    const lock = `${keyPrefix}{report}:lock`;
    await waitFor(
      async () => (await admin.get(lock))?.startsWith('tls-child#'),
      'the child to lead',
      20_000,
    );
    sample.child.kill('SIGTERM');
    await sample.exited;
    expect(sample.output).toMatch(/Election "report": this node is master \(term \d+\)/);
    // A graceful shutdown released the lease.
    expect(await admin.exists(lock)).toBe(0);
  });
});

describe('failFast', () => {
  const failFast = { failFast: { timeoutMs: 3000 } };

  it('a wrong password: the app does not start, and the error says why', async () => {
    const redis = await h.server({ args: ['--requirepass', h.secret()] });
    const url = `redis://:${h.secret()}@127.0.0.1:${redis.port}`;
    const message = await h.bootError(forRootModule(fast({ redis: url, ...failFast })));
    // At once, and naming the store as the start line would (which a failed start never logs).
    expect(message).toMatch(
      new RegExp(
        `^Kettle: failFast: Redis redis://127\\.0\\.0\\.1:${redis.port} cannot be used: Redis refused the credentials.*WRONGPASS`,
      ),
    );
  });

  it('a closed port: the app does not start, and the error says Redis is not connected', async () => {
    const port = await freePort();
    const message = await h.bootError(
      forRootModule(fast({ redis: `redis://127.0.0.1:${port}`, ...failFast })),
    );
    expect(message).toMatch(
      new RegExp(
        `failFast: Redis redis://127\\.0\\.0\\.1:${port} could not be reached within 3000 ms: Redis is not connected.*ECONNREFUSED`,
      ),
    );
  });

  it('a host name that does not resolve: ERROR once, and failFast names it', async () => {
    const redis = 'redis://kettle-no-such-host.invalid:6379';
    const message = await h.bootError(forRootModule(fast({ redis, ...failFast })));
    expect(message).toMatch(/the Redis host name does not resolve.*(ENOTFOUND|EAI_AGAIN)/);
    const { logs, close } = await h.node(fast({ redis }));
    await waitFor(() => logs.lines.some((l) => l.level === 'error'), 'the ERROR line');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(logs.lines.filter((l) => l.level === 'error')).toHaveLength(1);
    await close();
  });

  it('a reachable store: boots, and the start line names it without the password', async () => {
    const password = h.secret();
    const redis = await h.server({ args: ['--requirepass', password] });
    const url = `redis://:${password}@127.0.0.1:${redis.port}`;
    const { kettle, logs } = await h.node(fast({ redis: url, nodeId: 'ff', ...failFast }));
    expect(logs.lines.filter((l) => l.level === 'log' && /starts on/.test(l.message))).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(
          new RegExp(
            `^node "ff" starts on Redis redis://127\\.0\\.0\\.1:${redis.port}, key prefix "test:[0-9a-f]+:", elections: "secure"$`,
          ),
        ),
      }),
    ]);
    await waitFor(() => kettle.isMaster('secure'), 'master');
  });
});
