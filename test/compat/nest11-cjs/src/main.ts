/**
 * A NestJS 11 app in CommonJS that uses nestjs-kettle as such an app's author would: the package
 * comes from its packed tarball (`npm run compat:prepare`), and this file compiles to `require()`
 * calls, which load kettle's CommonJS build (its `require` export condition). One JSON line per event on stdout, for
 * test/compat/nest11-cjs.spec.ts: `ready` (with the versions it loaded), `elected` and `revoked`,
 * `run` for each run of its @OnMaster job, `status` every STATUS_MS, `closed` after SIGTERM.
 */
import 'reflect-metadata';
import { dirname, relative, resolve, sep } from 'node:path';
import { createRequire } from 'node:module';
import { Injectable, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { KettleModule, KettleService, type MasterContext, OnMaster } from 'nestjs-kettle';
// A subpath entry: TypeScript 5's CommonJS resolution finds its types through typesVersions.
import { Kettle, type KettleLogger } from 'nestjs-kettle/core';

const ELECTION = 'compat';
const env = process.env;
const nodeId = env.NODE_ID ?? `compat-${process.pid}`;
const statusMs = Number(env.STATUS_MS ?? 250);

function emit(event: string, fields: Record<string, unknown> = {}): void {
  process.stdout.write(`${JSON.stringify({ event, node: nodeId, ...fields })}\n`);
}

@Injectable()
class CompatJob {
  constructor(private readonly kettle: KettleService) {}

  @OnMaster(ELECTION)
  run({ term, signal }: MasterContext): void {
    emit('run', { term, isMaster: this.kettle.isMaster(ELECTION), aborted: signal.aborted });
  }
}

/** Reports this node's role changes; subscribed before the elections start (at bootstrap). */
@Injectable()
class LeadershipReporter implements OnModuleInit, OnApplicationShutdown {
  constructor(private readonly kettle: KettleService) {}

  onModuleInit(): void {
    // leadership$ first tells the current role: a follower's has no reason, and is no event.
    this.kettle.leadership$.subscribe(
      ({ name, isMaster, term, reason }) =>
        (isMaster || reason) && emit(isMaster ? 'elected' : 'revoked', { name, term, reason }),
    );
  }

  onApplicationShutdown(signal?: string): void {
    emit('shutdown', { signal: signal ?? null });
  }
}

/** Nest's own logger would do; this one shows that `logger` takes the core entry's type. */
const logger: KettleLogger = {
  log: () => undefined,
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
  debug: () => undefined,
};

@Module({
  imports: [
    KettleModule.forRoot({
      logger,
      redis: env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      keyPrefix: env.KEY_PREFIX ?? 'compat:',
      nodeId,
      interval: Number(env.INTERVAL_MS ?? 1000),
      allowShortInterval: true,
      leaseTtl: Number(env.LEASE_TTL_MS ?? 10_000),
    }),
  ],
  providers: [CompatJob, LeadershipReporter],
})
class AppModule {}

/** What this process loaded, and from where: Nest 11 for the app and for kettle alike. */
function loaded(): Record<string, unknown> {
  const version = (from: NodeJS.Require, id: string) =>
    (from(`${id}/package.json`) as { version: string }).version;
  const kettlePackage = require.resolve('nestjs-kettle/package.json');
  const fromKettle = createRequire(kettlePackage);
  const appDir = resolve(__dirname, '..');
  return {
    moduleSystem: typeof module === 'object' && typeof exports === 'object' ? 'commonjs' : 'esm',
    nodeVersion: process.version,
    nestCore: version(require, '@nestjs/core'),
    nestCommon: version(require, '@nestjs/common'),
    kettle: version(require, 'nestjs-kettle'),
    kettleDir: dirname(kettlePackage),
    // The file that require('nestjs-kettle') loads, relative to the package.
    kettleEntry: relative(dirname(kettlePackage), require.resolve('nestjs-kettle')),
    coreEntry: typeof Kettle,
    typescript: version(require, 'typescript'),
    // As kettle's own files resolve them, from node_modules/nestjs-kettle.
    nestCoreForKettle: version(fromKettle, '@nestjs/core'),
    nestCommonForKettle: version(fromKettle, '@nestjs/common'),
    ioredisForKettle: version(fromKettle, 'ioredis'),
    // Files loaded from outside this app's folder (the repository's own node_modules would show here).
    foreignModules: Object.keys(require.cache).filter((file) => !file.startsWith(appDir + sep)),
  };
}

async function main(): Promise<void> {
  const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
  const kettle = app.get(KettleService);
  emit('ready', { pid: process.pid, ...loaded() });

  let reading = false;
  const status = setInterval(() => {
    if (reading) return;
    reading = true;
    kettle
      .getMaster(ELECTION)
      .then(
        (master) => emit('status', { isMaster: kettle.isMaster(ELECTION), master }),
        (error: unknown) =>
          emit('status', { isMaster: kettle.isMaster(ELECTION), error: `${error}` }),
      )
      .finally(() => (reading = false));
  }, statusMs);

  // What app.enableShutdownHooks() does, with a clean exit code: close (kettle releases its
  // lease), then exit 0.
  process.once('SIGTERM', () => {
    clearInterval(status);
    app.close().then(
      () => {
        emit('closed');
        process.exit(0);
      },
      (error: unknown) => {
        emit('error', { error: `${error}` });
        process.exit(1);
      },
    );
  });
}

main().catch((error: unknown) => {
  emit('error', { error: error instanceof Error ? (error.stack ?? error.message) : `${error}` });
  process.exit(1);
});
