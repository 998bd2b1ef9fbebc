import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { Kettle, type KettleLogger } from '../../lib/core/index.js';
import { KettleModule, KettleService, MemoryStore, OnMaster } from '../../lib/index.js';
import { resolveKettleOptions } from '../../lib/core/options/resolve-options.js';
import { redactUrl } from '../../lib/core/kettle.messages.js';
import { electionTiming } from '../../lib/core/election/timing.js';
import { forRootModule, Harness, onMasterModule, withEnv } from '../support/apps.js';
import { uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

/**
 * Every option check in one place: the resolved module options, and the errors a bad option,
 * @OnMaster setting, join() or schedule() spec gives at bootstrap, naming the option and the value.
 */

const silent: KettleLogger = { log() {}, warn() {}, error() {}, debug() {} };
// Passwords never appear in an error or a log captured in this file.
const h = Harness.forFile();

describe('resolveKettleOptions', () => {
  it('fills in documented defaults', () => {
    const options = resolveKettleOptions({}, {});
    expect(options).toMatchObject({
      keyPrefix: 'kettle:',
      interval: 30_000,
      leaseTtl: 10_000,
      shutdownTimeout: 10_000,
      verbose: false,
      crashDetection: 'lease',
      store: { kind: 'redis', connection: { options: { host: '127.0.0.1', port: 6379 } } },
    });
    expect(options.nodeId).toMatch(new RegExp(`-${process.pid}-[0-9a-f]{6}$`));
    expect(options.failFast).toBeUndefined();
  });

  it('failFast: true waits 5000 ms, an object its own timeoutMs, false not at all', () => {
    const resolved = (failFast: unknown) =>
      resolveKettleOptions({ failFast } as never, {}).failFast;
    expect(resolved(true)).toEqual({ timeoutMs: 5000 });
    expect(resolved({})).toEqual({ timeoutMs: 5000 });
    expect(resolved({ timeoutMs: 250 })).toEqual({ timeoutMs: 250 });
    // A Duration, as for every length of time: typed so, not only taken at run time.
    expect(resolveKettleOptions({ failFast: { timeoutMs: '2s' } }, {}).failFast).toEqual({
      timeoutMs: 2000,
    });
    expect(resolved(false)).toBeUndefined();
  });

  it('reads the original kettle environment: REDIS_HOST, REDIS_PASSWORD, REDIS_TIMEOUT_SECONDS', () => {
    const { store } = resolveKettleOptions(
      {},
      { REDIS_HOST: '10.1.2.3:6380', REDIS_PASSWORD: 's3cret', REDIS_TIMEOUT_SECONDS: '5' },
    );
    expect(store).toEqual({
      kind: 'redis',
      connection: {
        options: { host: '10.1.2.3', port: 6380, password: 's3cret', connectTimeout: 5000 },
      },
    });
    const v6 = resolveKettleOptions({}, { REDIS_HOST: '[::1]:7000' }).store;
    expect(v6).toEqual({ kind: 'redis', connection: { options: { host: '::1', port: 7000 } } });
    const noPort = resolveKettleOptions({}, { REDIS_HOST: 'redis.internal' }).store;
    expect(noPort).toEqual({
      kind: 'redis',
      connection: { options: { host: 'redis.internal', port: 6379 } },
    });
  });

  it('prefers REDIS_URL, and the redis option over the environment', () => {
    const fromUrl = resolveKettleOptions(
      {},
      { REDIS_URL: 'rediss://cache:6390/2', REDIS_HOST: 'ignored:1', REDIS_PASSWORD: 'pw' },
    );
    expect(fromUrl.store).toEqual({
      kind: 'redis',
      connection: { url: 'rediss://cache:6390/2', options: { password: 'pw' } },
    });
    const explicit = resolveKettleOptions(
      { redis: { host: 'h', port: 1 } },
      { REDIS_URL: 'redis://x:1' },
    );
    expect(explicit.store).toEqual({
      kind: 'redis',
      connection: { options: { host: 'h', port: 1 } },
    });
    const client = new Redis({ lazyConnect: true });
    expect(resolveKettleOptions({ redis: client }, {}).store).toEqual({
      kind: 'redis',
      connection: { client },
    });
  });

  it('takes the memory store and a custom store', () => {
    expect(resolveKettleOptions({ store: 'memory' }, {}).store).toEqual({ kind: 'memory' });
    const custom = new MemoryStore('custom:');
    expect(resolveKettleOptions({ store: custom }, {}).store).toEqual({
      kind: 'custom',
      store: custom,
    });
  });

  it('rejects a custom store whose claimSlot or heartbeat is there but not a function', () => {
    for (const claimSlot of ['yes', null, {}]) {
      const store = Object.assign(new MemoryStore('custom:'), { claimSlot });
      expect(() => resolveKettleOptions({ store }, {})).toThrow(
        /invalid option "store.claimSlot": .*; expected a function, or no claimSlot/,
      );
    }
    const heartbeatless = Object.assign(new MemoryStore('custom:'), { heartbeat: 'yes' });
    expect(() => resolveKettleOptions({ store: heartbeatless, balance: true }, {})).toThrow(
      /invalid option "store.heartbeat": "yes"; expected a function, or no heartbeat/,
    );
    // Declared but unset (an optional class field) is no claimSlot.
    const unset = Object.assign(new MemoryStore('custom:'), { claimSlot: undefined });
    expect(resolveKettleOptions({ store: unset }, {}).store).toMatchObject({ kind: 'custom' });
  });

  it('takes durations as numbers, numeric strings and strings with a unit', () => {
    const options = resolveKettleOptions(
      { interval: '2m', leaseTtl: '1.5s', shutdownTimeout: '2500' },
      {},
    );
    expect(options).toMatchObject({ interval: 120_000, leaseTtl: 1500, shutdownTimeout: 2500 });
    expect(resolveKettleOptions({ interval: '1h', leaseTtl: 3000 }, {})).toMatchObject({
      interval: 3_600_000,
      leaseTtl: 3000,
    });
  });

  it('reads "true" and "false" as booleans, as ConfigService hands them over, and nothing else', () => {
    const options = { verbose: 'true', failFast: 'true', allowShortInterval: 'true', interval: 50 };
    expect(resolveKettleOptions(options as never, {})).toMatchObject({
      verbose: true,
      failFast: { timeoutMs: 5000 },
      allowShortInterval: true,
      interval: 50,
    });
    expect(resolveKettleOptions({ failFast: 'false' } as never, {})).not.toHaveProperty('failFast');
    expect(() => resolveKettleOptions({ verbose: 'yes' } as never, {})).toThrow(
      /"verbose": "yes"; expected true or false/,
    );
    expect(() => resolveKettleOptions({ failFast: 'TRUE' } as never, {})).toThrow(/"failFast"/);
  });

  it('takes an interval under a second with allowShortInterval, and only then', () => {
    expect(resolveKettleOptions({ interval: 50, allowShortInterval: true }, {})).toMatchObject({
      interval: 50,
      allowShortInterval: true,
    });
    expect(resolveKettleOptions({ interval: 1000 }, {}).interval).toBe(1000);
    expect(() => resolveKettleOptions({ interval: 999 }, {})).toThrow(/"interval": 999 is 999/);
    // A fraction is not seconds: no suggestion.
    expect(() => resolveKettleOptions({ interval: 1.5, allowShortInterval: false }, {})).toThrow(
      /"interval": 1.5 is 2 ms; expected at least 1000 ms, or "allowShortInterval": true/,
    );
  });

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    [
      'interval 0',
      { interval: 0 },
      /"interval": 0; expected a duration from 1 ms to 2147483647 ms: a number of milliseconds, or a string such as '500ms', '30s', '2m' or '1h'/,
    ],
    [
      'an interval longer than a timer can wait',
      { interval: 30 * 24 * 3600_000 },
      /"interval": 2592000000/,
    ],
    ['an interval under 1 ms', { interval: 0.5 }, /"interval": 0.5/],
    ['interval NaN', { interval: Number.NaN }, /"interval": NaN/],
    [
      'interval as words',
      { interval: '2 minutes' },
      /"interval": "2 minutes"; expected a duration/,
    ],
    ['a negative interval string', { interval: '-1s' }, /"interval": "-1s"; expected a duration/],
    ['an empty interval', { interval: '' }, /"interval": ""; expected a duration/],
    [
      'an interval in seconds under the floor',
      { interval: 60 },
      /"interval": 60 is 60 ms; expected at least 1000 ms \(did you mean '60s'\?\), or "allowShortInterval": true/,
    ],
    [
      'a short interval with its unit',
      { interval: '500ms' },
      /"interval": "500ms" is 500 ms; expected at least 1000 ms, or "allowShortInterval": true/,
    ],
    [
      'allowShortInterval as a string',
      { allowShortInterval: 'yes' },
      /"allowShortInterval": "yes"; expected true or false/,
    ],
    [
      'shutdownTimeout as words',
      { shutdownTimeout: 'ten seconds' },
      /"shutdownTimeout": "ten seconds"/,
    ],
    ['leaseTtl Infinity', { leaseTtl: Infinity }, /"leaseTtl": Infinity/],
    [
      'a lease too short for its renew period',
      { leaseTtl: 50 },
      /"leaseTtl": 50; expected at least 100 ms/,
    ],
    ['negative shutdownTimeout', { shutdownTimeout: -1 }, /"shutdownTimeout": -1/],
    ['empty keyPrefix', { keyPrefix: '' }, /"keyPrefix": ""/],
    [
      'a keyPrefix with an empty hash tag',
      { keyPrefix: 'app{}:' },
      /"keyPrefix": "app\{\}:"; expected a prefix whose first "\{" is not directly followed by "\}"/,
    ],
    ['nodeId as a number', { nodeId: 7 }, /"nodeId": 7/],
    ['verbose as a string', { verbose: 'yes' }, /"verbose": "yes"/],
    ['an http URL', { redis: 'http://localhost:6379' }, /"redis": "http:\/\/localhost:6379"/],
    ['a malformed URL', { redis: 'not a url' }, /"redis": "not a url"/],
    ['redis as a number', { redis: 6379 }, /"redis": 6379/],
    [
      'an unknown store',
      { store: 'mongo' },
      /"store": "mongo"; expected 'redis', 'memory' or a KettleStore/,
    ],
    [
      'a misspelt option',
      { leaseTTL: 3000 },
      /unknown option "leaseTTL"; did you mean "leaseTtl"\? \(the options are redis, .*\)/,
    ],
    [
      'an unknown option like none',
      { colour: 'red' },
      /invalid option "colour": a string; expected one of redis, .* \(unknown option\)/,
    ],
  ];
  it.each(bad)(
    'rejects %s with an error naming the option and the value',
    (_, options, message) => {
      expect(() => resolveKettleOptions(options as never, {})).toThrow(message);
    },
  );

  it('rejects bad environment values by name', () => {
    expect(() => resolveKettleOptions({}, { REDIS_HOST: 'h:99999' })).toThrow(
      /"REDIS_HOST": "h:99999"/,
    );
    expect(() => resolveKettleOptions({}, { REDIS_TIMEOUT_SECONDS: 'soon' })).toThrow(
      /"REDIS_TIMEOUT_SECONDS": "soon"/,
    );
    expect(() => resolveKettleOptions({}, { REDIS_URL: 'localhost:6379' })).toThrow(/"REDIS_URL"/);
  });

  it('never puts a password into an error or a log', () => {
    expect(() => resolveKettleOptions({ redis: 'http://user:hunter2@host:1' }, {})).toThrow(
      /user:\*\*\*@host/,
    );
    expect(redactUrl('redis://:hunter2@host:6379/0')).toBe('redis://:***@host:6379/0');
    expect(redactUrl('redis://host:6379')).toBe('redis://host:6379');
    expect(redactUrl('redis://u:p@ss/w@rd@host:1')).toBe('redis://u:***@host:1');
    expect(redactUrl('rediss://user@host:1')).toBe('rediss://user@host:1');
    expect(() => resolveKettleOptions({ password: 'hunter2' } as never, {})).toThrow(
      /invalid option "password": a string; expected one of/,
    );
  });
});

describe('electionTiming', () => {
  it('orders drift < renew < renew deadline < lease, as client-go orders its periods', () => {
    for (const lease of [100, 1000, 3000, 10_000, 60_000]) {
      const timing = electionTiming(1000, lease);
      expect(timing.drift).toBeLessThan(timing.renewEvery);
      // Two renewals may fail before the master steps down.
      expect(timing.renewEvery * 2).toBeLessThan(timing.renewDeadline);
      // It steps down a fifth of the lease (at least the drift) before the lease can end.
      expect(timing.renewDeadline).toBeLessThanOrEqual(
        lease - Math.max(timing.drift, lease / 5) + 1,
      );
      expect(timing.safetyMargin).toBeLessThan(timing.renewDeadline);
    }
    expect(electionTiming(1000, 10_000)).toMatchObject({
      renewEvery: 3333,
      retryEvery: 3333,
      drift: 102,
      renewDeadline: 8000,
    });
  });
});

describe('bad options fail createApplicationContext, naming the option and its value', () => {
  const badOptions: Array<[unknown, RegExp]> = [
    [null, /"options": null; expected an object/],
    [{ redis: 6379 }, /"redis": 6379; expected a redis:\/\/ or rediss:\/\/ URL/],
    [{ redis: null }, /"redis": null/],
    [{ redis: ['redis://h:1'] }, /"redis": an array/],
    [{ redis: 'http://localhost:6379' }, /"redis": "http:\/\/localhost:6379"/],
    [{ redis: 'localhost:6379' }, /"redis": "localhost:6379"/],
    [{ keyPrefix: '' }, /"keyPrefix": ""; expected a non-empty string/],
    [{ keyPrefix: 1 }, /"keyPrefix": 1/],
    [{ nodeId: ' ' }, /"nodeId": " "/],
    [{ nodeId: false }, /"nodeId": false/],
    [{ interval: 0 }, /"interval": 0; expected a duration from 1 ms to 2147483647 ms/],
    [{ interval: '1 second' }, /"interval": "1 second"/],
    [
      { interval: 999 },
      /"interval": 999 is 999 ms; expected at least 1000 ms, or "allowShortInterval": true/,
    ],
    [{ interval: 2 ** 31 }, /"interval": 2147483648/],
    [{ leaseTtl: 99 }, /"leaseTtl": 99; expected at least 100 ms/],
    [{ leaseTtl: Number.NaN }, /"leaseTtl": NaN/],
    [{ shutdownTimeout: -1 }, /"shutdownTimeout": -1/],
    [{ shutdownTimeout: Infinity }, /"shutdownTimeout": Infinity/],
    [{ verbose: 'yes' }, /"verbose": "yes"; expected true or false/],
    [{ crashDetection: 'socket' }, /"crashDetection": "socket"; expected 'connection' or 'lease'/],
    [{ store: 'mongo' }, /"store": "mongo"; expected 'redis', 'memory' or a KettleStore/],
    [
      { store: { acquire() {} } },
      /"store": an object; expected 'redis', 'memory' or a KettleStore/,
    ],
    [{ leaseTTL: 3000 }, /unknown option "leaseTTL"; did you mean "leaseTtl"\?/],
    [{ failFast: 'yes' }, /"failFast": "yes"; expected true, false or \{ timeoutMs \}/],
    [{ failFast: { timeoutMs: 0 } }, /"failFast.timeoutMs": 0; expected a duration/],
    [
      { failFast: { timeout: 100 } },
      /unknown option "failFast.timeout"; did you mean "failFast.timeoutMs"\?/,
    ],
    [
      { failFast: { retries: 3 } },
      /"failFast.retries": 3; expected one of failFast.timeoutMs \(unknown option\)/,
    ],
  ];
  const both = badOptions.flatMap(([options, message]) =>
    (['forRoot', 'forRootAsync'] as const).map((how) => [how, options, message] as const),
  );
  it.each(both)('%s(%o)', async (how, options, message) => {
    expect(await h.bootError(forRootModule(options, how === 'forRootAsync'))).toMatch(message);
  });

  const badJobs: Array<[unknown, unknown, RegExp]> = [
    ['', {}, /invalid election name "" in @OnMaster\(\) on Job.run; expected a non-empty string/],
    [42, {}, /invalid election name 42 in @OnMaster\(\) on Job.run/],
    ['x', null, /invalid options in @OnMaster\('x'\) on Job.run; expected an object/],
    [
      'x',
      { interval: -1 },
      /Kettle: @OnMaster\("x"\) on Job.run: invalid option "interval": -1; expected/,
    ],
    ['x', { interval: '5 s' }, /@OnMaster\("x"\) on Job.run: invalid option "interval": "5 s"/],
    [
      'x',
      { interval: 30 },
      /@OnMaster\("x"\) on Job.run: invalid option "interval": 30 is 30 ms; .*'30s'/,
    ],
    [
      'x',
      { leaseTtl: 50 },
      /@OnMaster\("x"\) on Job.run: invalid option "leaseTtl": 50; expected at least 100/,
    ],
    [
      'x',
      { intervall: 5000 },
      /@OnMaster\("x"\) on Job.run: unknown option "intervall"; did you mean "interval"\?/,
    ],
  ];
  it.each(badJobs)('@OnMaster(%o, %o)', async (name, options, message) => {
    expect(await h.bootError(onMasterModule(name, options))).toMatch(message);
  });

  // A misspelt `leaseTTL` must not pass silently and leave the election on the module's lease.
  it('fails at bootstrap on a bad option, naming it and its value', async () => {
    @Module({ imports: [KettleModule.forRoot({ leaseTtl: -5 })] })
    class AppModule {}
    expect(await h.bootError(AppModule)).toMatch(/invalid option "leaseTtl": -5/);
  });

  it('fails at bootstrap on clashing @OnMaster options for one name', async () => {
    @Injectable()
    class Jobs {
      @OnMaster('billing', { interval: 1000 })
      a() {}
      @OnMaster('billing', { interval: 2000 })
      b() {}
    }
    @Module({ imports: [KettleModule.forRoot({ store: 'memory' })], providers: [Jobs] })
    class AppModule {}
    expect(await h.bootError(AppModule)).toMatch(
      /election "billing" is declared with clashing "interval" values 1000 and 2000/,
    );
  });

  it('fails at bootstrap on a bad @OnMaster name or interval', async () => {
    @Injectable()
    class EmptyName {
      @OnMaster('')
      a() {}
    }
    @Module({ imports: [KettleModule.forRoot({ store: 'memory' })], providers: [EmptyName] })
    class EmptyNameModule {}
    expect(await h.bootError(EmptyNameModule)).toMatch(
      /invalid election name "" in @OnMaster\(\) on EmptyName.a/,
    );

    @Injectable()
    class BadInterval {
      @OnMaster('x', { interval: 0 })
      a() {}
    }
    @Module({ imports: [KettleModule.forRoot({ store: 'memory' })], providers: [BadInterval] })
    class BadIntervalModule {}
    expect(await h.bootError(BadIntervalModule)).toMatch(
      /@OnMaster\("x"\) on BadInterval.a: invalid option "interval": 0/,
    );
  });

  // What a ConfigService reads from the environment is a string.
  it('forRootAsync with ConfigService strings: durations in ms or with a unit, and booleans', async () => {
    @Injectable()
    class Job {
      @OnMaster('config-durations', { interval: '90s', leaseTtl: '4000' })
      run() {}
    }
    @Module({
      imports: [
        KettleModule.forRootAsync({
          imports: [
            ConfigModule.forRoot({
              ignoreEnvFile: true,
              load: [
                () => ({
                  KETTLE_INTERVAL: '2000',
                  KETTLE_LEASE_TTL: '5s',
                  KETTLE_SHUTDOWN_TIMEOUT: '1500ms',
                  KETTLE_VERBOSE: 'true',
                  KETTLE_FAIL_FAST: 'true',
                }),
              ],
            }),
          ],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            redis: SHARED_REDIS_URL,
            keyPrefix: uniquePrefix(),
            interval: config.get('KETTLE_INTERVAL'),
            leaseTtl: config.get('KETTLE_LEASE_TTL'),
            shutdownTimeout: config.get('KETTLE_SHUTDOWN_TIMEOUT'),
            verbose: config.get('KETTLE_VERBOSE'),
            failFast: config.get('KETTLE_FAIL_FAST'),
          }),
        }),
      ],
      providers: [Job],
    })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, {
      logger: false,
      abortOnError: false,
    });
    try {
      const kettle = app.get(KettleService);
      kettle.join('config-module-timing', { run() {} });
      expect(kettle.electionOf('config-module-timing')?.timing).toMatchObject({
        interval: 2000,
        leaseTtl: 5000,
      });
      expect(kettle.electionOf('config-durations')?.timing).toMatchObject({
        interval: 90_000,
        leaseTtl: 4000,
      });
    } finally {
      await app.close();
    }
  });

  it('a short interval on one election, with its own allowShortInterval', async () => {
    const kettle = new Kettle({ store: 'memory', keyPrefix: uniquePrefix(), logger: silent });
    try {
      expect(() => kettle.join('fast', { interval: 200 })).toThrow(
        /join\("fast"\): invalid option "interval": 200 is 200 ms; expected at least 1000 ms, or "allowShortInterval": true/,
      );
      kettle.join('fast', { interval: 200, allowShortInterval: true });
      kettle.schedule('poll', { interval: '250ms', allowShortInterval: true }, () => undefined);
      expect(kettle.electionOf('fast')?.timing.interval).toBe(200);
      expect(kettle.electionOf('poll')?.timing.interval).toBe(250);
      expect(() => kettle.join('typo', { allowShortIntervals: true } as never)).toThrow(
        /join\("typo"\): unknown option "allowShortIntervals"; did you mean "allowShortInterval"\?/,
      );
    } finally {
      await kettle.stop();
    }
  });

  it('two @OnMaster of one election may write one interval two ways', async () => {
    @Injectable()
    class Jobs {
      @OnMaster('same-interval', { interval: '2s' })
      a() {}
      @OnMaster('same-interval', { interval: 2000 })
      b() {}
    }
    @Module({ imports: [KettleModule.forRoot({ store: 'memory' })], providers: [Jobs] })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, {
      logger: false,
      abortOnError: false,
    });
    try {
      expect(app.get(KettleService).electionOf('same-interval')?.timing.interval).toBe(2000);
    } finally {
      await app.close();
    }
  });

  it('@OnMaster("x", { leaseTTL: 5000 }) (an unknown option)', async () => {
    expect(await h.bootError(onMasterModule('x', { leaseTTL: 5000 }))).toMatch(
      /@OnMaster\("x"\) on Job.run: unknown option "leaseTTL"; did you mean "leaseTtl"\?/,
    );
  });
});

describe('bootstrap errors never show a password', () => {
  const pw = h.secret();
  const redacted: Array<[string, Record<string, string>, unknown, RegExp]> = [
    ['an http URL', {}, { redis: `http://u:${pw}@h:1` }, /"redis": "http:\/\/u:\*\*\*@h:1"/],
    ['a bad port', {}, { redis: `redis://:${pw}@h:x` }, /"redis": "redis:\/\/:\*\*\*@h:x"/],
    ['ioredis options', {}, { redis: { password: pw }, keyPrefix: '' }, /"keyPrefix": ""/],
    ['REDIS_URL', { REDIS_URL: `redis://:${pw}@h:x` }, {}, /"REDIS_URL": "redis:\/\/:\*\*\*@h:x"/],
  ];
  it.each(redacted)('%s', async (_, env, options, message) => {
    const error = await withEnv(env, () => h.bootError(forRootModule(options)));
    expect(error).toMatch(message);
    expect(error).not.toContain(pw);
  });

  // Passwords in places a naive redaction misses. The password is not one of h's secrets, and no
  // logger is captured, so that only these tests would show a leak.
  const leaked = 'leaked-Passw0rd';
  const leaks: Array<[string, unknown, boolean, RegExp]> = [
    ['a "/" in the password of a bad URL', { redis: `redis://:a/${leaked}@h:x` }, false, /"redis"/],
    ['a top-level `password` option (unknown)', { password: leaked }, false, /"password"/],
    ['forRootAsync returning the URL itself', `redis://:${leaked}@h:6379`, true, /"options"/],
  ];
  it.each(leaks)('%s', async (_, options, async, message) => {
    const error = await h.bootError(forRootModule(options, async), false);
    expect(error).toMatch(message);
    expect(error).not.toContain(leaked);
  });
});

describe('@OnMaster, join() and schedule() with cron refuse bad options, naming them', () => {
  const kettles: Kettle[] = [];
  afterEach(async () => {
    await Promise.all(kettles.splice(0).map((kettle) => kettle.stop()));
  });

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
      /@OnMaster\("report"\) on Both.report: invalid options "interval" \(1000\) and "cron"/,
    );
  });

  it('a schedule() spec whose cron or interval is there but empty, or both or neither', () => {
    const kettle = new Kettle({ store: 'memory', keyPrefix: uniquePrefix(), logger: silent });
    kettles.push(kettle);
    const schedule = (spec: Record<string, unknown>) => () =>
      kettle.schedule('report', spec as never, () => undefined);
    expect(schedule({ cron: undefined })).toThrow(
      /schedule\("report"\): invalid option "cron": undefined; expected a cron expression/,
    );
    expect(schedule({ cron: '  ' })).toThrow(/schedule\("report"\): invalid option "cron": "  "/);
    // The words of an interval that join() or @OnMaster refuse, for any value.
    const milliseconds = 'expected a duration from 1 ms to 2147483647 ms';
    for (const interval of [undefined, -5, 0.4, '-5s'])
      expect(schedule({ interval })).toThrow(
        `schedule("report"): invalid option "interval": ${JSON.stringify(interval) ?? interval}; ${milliseconds}`,
      );
    expect(join({ interval: 0.4 })).toThrow(
      `join("report"): invalid option "interval": 0.4; ${milliseconds}`,
    );
    expect(schedule({ interval: 500 })).toThrow(
      `schedule("report"): invalid option "interval": 500 is 500 ms; expected at least 1000 ms, or "allowShortInterval": true`,
    );
    expect(schedule({ cron: '0 0 2 * * *', interval: undefined })).toThrow(
      /schedule\("report"\): invalid options "interval" \(undefined\) and "cron" \("0 0 2 \* \* \*"\): set one of them, not both; remove "interval"/,
    );
    expect(schedule({ cron: undefined, interval: 1000 })).toThrow(
      /set one of them, not both; remove "cron"/,
    );
    expect(schedule({ leaseTtl: 1000 })).toThrow(/expected \{ cron \} or \{ interval \}/);
    expect(schedule({ intreval: 5000 })).toThrow(
      /schedule\("report"\): unknown option "intreval"; did you mean "interval"\?/,
    );
    expect(kettle.names()).toEqual([]);
  });

  it('interval and cron together', () => {
    expect(join({ interval: 1000, cron: '0 0 2 * * *' })).toThrow(
      /join\("report"\): invalid options "interval" \(1000\) and "cron" \("0 0 2 \* \* \*"\): set one of them, not both/,
    );
  });

  it('a cron expression that cron does not take', () => {
    expect(join({ cron: '0 0 25 * * *' })).toThrow(
      /join\("report"\): invalid option "cron": "0 0 25 \* \* \*"; expected a cron expression.*out of range/,
    );
    expect(join({ cron: 'every day' })).toThrow(/join\("report"\): invalid option "cron"/);
    expect(join({ cron: 42 })).toThrow(/join\("report"\): invalid option "cron": 42/);
    // February 30th never comes.
    expect(join({ cron: '0 0 0 30 2 *' })).toThrow(/invalid option "cron": "0 0 0 30 2 \*"/);
  });

  it('a time zone that does not exist, or one without cron', () => {
    expect(join({ cron: '0 0 2 * * *', timeZone: 'Europe/Pariss' })).toThrow(
      /join\("report"\): invalid option "timeZone": "Europe\/Pariss"; expected an IANA time zone/,
    );
    expect(join({ interval: 1000, timeZone: 'Europe/Paris' })).toThrow(
      /join\("report"\): invalid option "timeZone": "Europe\/Paris"; expected no value without "cron"/,
    );
  });

  it('a catchUp other than none or latest', () => {
    expect(join({ cron: '0 0 2 * * *', catchUp: 'all' })).toThrow(
      /join\("report"\): invalid option "catchUp": "all"; expected 'none' or 'latest'/,
    );
  });
});
