import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Injectable, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, afterEach, expect } from 'vitest';
import { children } from '#tools/children.js';
import { RedisServer } from '#tools/redis-server.js';
import {
  KettleModule,
  type KettleModuleOptions,
  KettleService,
  OnMaster,
} from '../../lib/index.js';
import { CapturedLogs } from './log-capture.js';

/**
 * What a test file opens (apps, servers, clients), closed after each test; and the passwords it
 * hands out and the logs it captures, so that the file can check at the end that no log holds one.
 */
export class Harness {
  private readonly secrets = new Set<string>();
  private readonly outputs: Array<{ text(): string }> = [];
  private readonly cleanups: Array<() => unknown> = [];

  defer(cleanup: () => unknown): void {
    this.cleanups.push(cleanup);
  }

  async cleanup(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup();
  }

  /** A random password, remembered so that `leaks()` looks for it. */
  secret(): string {
    const value = `pw-${randomBytes(12).toString('hex')}`;
    this.secrets.add(value);
    return value;
  }

  /** Counts `output` (a captured log, a child's stdout) among those `leaks()` searches. */
  watch<T extends { text(): string }>(output: T): T {
    this.outputs.push(output);
    return output;
  }

  /**
   * Registers, for the calling test file, the cleanup after each test and, after all of them, the
   * check that no captured output holds a password this harness handed out.
   */
  static forFile(): Harness {
    const harness = new Harness();
    afterEach(() => harness.cleanup());
    afterAll(() => {
      const { outputs, leaks } = harness.leaks();
      expect(outputs).toBeGreaterThan(0);
      expect(leaks).toEqual([]);
    });
    return harness;
  }

  /** Every (secret, output) pair where a password shows, as text; and how many outputs there were. */
  leaks(): { outputs: number; leaks: string[] } {
    const leaks = this.outputs.flatMap((output) =>
      [...this.secrets]
        .filter((s) => output.text().includes(s))
        .map((s) => `${s} in ${output.text()}`),
    );
    return { outputs: this.outputs.length, leaks };
  }

  async server(options: Parameters<typeof RedisServer.start>[0] = {}): Promise<RedisServer> {
    const server = await RedisServer.start(options);
    this.defer(() => server.kill());
    return server;
  }

  client(target: string | RedisOptions, options: RedisOptions = {}): Redis {
    const redis =
      typeof target === 'string'
        ? new Redis(target, options)
        : new Redis({ ...target, ...options });
    this.defer(() => redis.disconnect());
    return redis;
  }

  /** A user's app: KettleModule.forRoot and one `@OnMaster('secure')` job that counts its runs. */
  async node(options: KettleModuleOptions, logs = this.watch(new CapturedLogs())) {
    const runs = { count: 0 };
    @Injectable()
    class Job {
      @OnMaster('secure')
      run() {
        runs.count++;
      }
    }
    @Module({ imports: [KettleModule.forRoot(options)], providers: [Job] })
    class AppModule {}
    const app = await NestFactory.createApplicationContext(AppModule, { logger: logs });
    let closing: Promise<void> | undefined;
    const close = () => (closing ??= app.close());
    this.defer(close);
    return { app, kettle: app.get(KettleService), runs, logs, close };
  }

  /** The message createApplicationContext fails with; throws if the app boots. */
  async bootError(module: unknown, logs: CapturedLogs | false = this.watch(new CapturedLogs())) {
    const booted = NestFactory.createApplicationContext(module as never, {
      logger: logs,
      abortOnError: false,
    });
    return booted.then(
      async (app: INestApplicationContext) => {
        await app.close();
        throw new Error('the application booted');
      },
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
  }
}

/** A root module that imports KettleModule with `options`, through forRoot or a forRootAsync factory. */
export function forRootModule(options: unknown, async = false) {
  @Module({
    imports: [
      async
        ? KettleModule.forRootAsync({ useFactory: async () => options as KettleModuleOptions })
        : KettleModule.forRoot(options as KettleModuleOptions),
    ],
  })
  class AppModule {}
  return AppModule;
}

/** A root module with one `@OnMaster(name, options)` method, `Job.run`, on the memory store. */
export function onMasterModule(name: unknown, options: unknown) {
  @Injectable()
  class Job {
    @OnMaster(name as string, options as object)
    run() {}
  }
  @Module({ imports: [KettleModule.forRoot({ store: 'memory' })], providers: [Job] })
  class AppModule {}
  return AppModule;
}

/** Runs `fn` with these REDIS_* variables only, then puts the environment back. */
export async function withEnv<T>(env: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const names = ['REDIS_URL', 'REDIS_HOST', 'REDIS_PASSWORD', 'REDIS_TIMEOUT_SECONDS'];
  const saved = names.map((name) => [name, process.env[name]] as const);
  for (const name of names) delete process.env[name];
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

/** The sample app (sample/dist) in a child process, as a user would deploy it; `output` is its stdout and stderr. */
export function startSample(env: Record<string, string>) {
  const { process: child, exited } = children.spawn(process.execPath, ['sample/dist/main.js'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const sample = { output: '', text: () => sample.output, exited, child };
  for (const stream of [child.stdout!, child.stderr!])
    stream.on('data', (data) => (sample.output += String(data)));
  return sample;
}
