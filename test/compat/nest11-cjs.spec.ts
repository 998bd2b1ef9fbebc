import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '#tools/wait.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';
import { APP, assertPrepared, MAIN } from './nest11-app.js';

/**
 * A NestJS 11 app in CommonJS (test/compat/nest11-cjs), with nestjs-kettle installed from its
 * packed tarball by `npm run compat:prepare`: two processes of it elect one master on the shared
 * Redis, and SIGTERM to the master hands over to the other.
 */
const ELECTION = 'compat';
/**
 * Long, so that a hand-over within HAND_OVER_DEADLINE_MS can only come from the released lease,
 * not from its expiry; jobs run every INTERVAL_MS.
 */
const LEASE_TTL_MS = 30_000;
const HAND_OVER_DEADLINE_MS = LEASE_TTL_MS / 2;
const INTERVAL_MS = 500;
/** Deadlines for what takes a second or less on an idle machine: Nest booting, a process exiting. */
const DEADLINE_MS = 20_000;

interface AppEvent {
  event: string;
  node: string;
  term?: number;
  reason?: string;
  isMaster?: boolean;
  master?: string | null;
  [field: string]: unknown;
}

/** One process of the app, and every JSON line it printed. */
class AppNode {
  readonly events: AppEvent[] = [];
  stdout = '';
  stderr = '';
  exit?: { code: number | null; signal: NodeJS.Signals | null };
  private readonly child: ChildProcess;

  constructor(
    readonly id: string,
    keyPrefix: string,
  ) {
    this.child = spawn(process.execPath, [MAIN], {
      cwd: APP,
      // Only what the app reads, and PATH: nothing of the test runner's own environment.
      env: {
        PATH: process.env.PATH,
        NODE_ID: id,
        KEY_PREFIX: keyPrefix,
        REDIS_URL: SHARED_REDIS_URL,
        INTERVAL_MS: String(INTERVAL_MS),
        LEASE_TTL_MS: String(LEASE_TTL_MS),
        STATUS_MS: '200',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let partial = '';
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop()!;
      for (const line of lines)
        if (line.startsWith('{')) this.events.push(JSON.parse(line) as AppEvent);
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString()));
    this.child.on('exit', (code, signal) => (this.exit = { code, signal }));
  }

  of(event: string): AppEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  /** Everything it printed, for failure messages. */
  get output(): string {
    return `--- ${this.id} stdout:\n${this.stdout}--- ${this.id} stderr:\n${this.stderr}`;
  }

  signal(signal: NodeJS.Signals): void {
    if (!this.exit) this.child.kill(signal);
  }
}

describe('a NestJS 11 CommonJS app with nestjs-kettle from its tarball', () => {
  const keyPrefix = `compat-test:${randomBytes(4).toString('hex')}:`;
  const nodes: AppNode[] = [];
  const output = () => nodes.map((node) => node.output).join('\n');

  /**
   * Checks that compat:prepare has run, starts both nodes and waits for them to boot: once, in the
   * first test. In a test, not in beforeAll, so that an app not prepared fails the tests instead of
   * leaving them skipped.
   */
  let booted: Promise<void> | undefined;
  const boot = () => (booted ??= startNodes());
  async function startNodes(): Promise<void> {
    assertPrepared();
    // Both at once: they race for the lease.
    nodes.push(new AppNode('compat-a', keyPrefix), new AppNode('compat-b', keyPrefix));
    await waitFor(
      () => nodes.every((node) => node.of('ready').length === 1) || nodes.some((node) => node.exit),
      'both nodes to boot',
      DEADLINE_MS,
    ).catch((error: Error) => {
      throw new Error(`${error.message}\n${output()}`);
    });
    for (const node of nodes) expect(node.exit, output()).toBeUndefined();
  }

  afterAll(async () => {
    for (const node of nodes) node.signal('SIGKILL');
    // Its prefix is not `test:`, which the global teardown of another run could delete mid-test.
    const redis = new Redis(SHARED_REDIS_URL);
    try {
      const keys = await redis.keys(`${keyPrefix}*`);
      if (keys.length > 0) await redis.unlink(...keys);
    } finally {
      redis.disconnect();
    }
  });

  it(
    'loads @nestjs/core 11 and the CommonJS build of nestjs-kettle with require(), from its own node_modules',
    async () => {
      await boot();
      for (const node of nodes) {
        const [ready] = node.of('ready');
        expect(ready, node.output).toMatchObject({
          moduleSystem: 'commonjs',
          kettleDir: join(APP, 'node_modules/nestjs-kettle'),
          kettleEntry: join('dist', 'cjs', 'index.js'),
          foreignModules: [],
        });
        // The versions the app resolves, and those that kettle's own files resolve.
        for (const field of ['nestCore', 'nestCommon', 'nestCoreForKettle', 'nestCommonForKettle'])
          expect(ready[field], `${field}\n${node.output}`).toMatch(/^11\./);
        expect(ready.ioredisForKettle).toMatch(/^5\./);
        // Compiled by the app's own TypeScript 5 (CommonJS resolution), subpath entry included.
        expect(ready.typescript).toMatch(/^5\./);
        expect(ready.coreEntry).toBe('function');
      }
      const [ready] = nodes[0].of('ready');
      console.log(
        `nest11-cjs: @nestjs/core ${ready.nestCore} (for kettle: ${ready.nestCoreForKettle}), ` +
          `nestjs-kettle ${ready.kettle} (${ready.kettleEntry}) by require(), Node ${ready.nodeVersion}`,
      );
    },
    DEADLINE_MS + 10_000,
  );

  it(
    'elects one master, which runs the job; SIGTERM hands over to the other with a greater term',
    async () => {
      await boot();
      // One master, and its job runs.
      const [master, follower] = await waitFor(
        () => {
          const elected = nodes.filter((node) => node.of('elected').length > 0);
          if (elected.length === 0) return undefined;
          return elected[0] === nodes[0] ? [nodes[0], nodes[1]] : [nodes[1], nodes[0]];
        },
        'a master',
        DEADLINE_MS,
      );
      const [{ term: firstTerm }] = master.of('elected');
      expect(firstTerm, output()).toBeGreaterThan(0);
      await waitFor(
        () => master.of('run').some((run) => run.term === firstTerm),
        'the master to run its job',
        DEADLINE_MS,
      );
      // The follower reads the master's node id from Redis, and is not master itself.
      await waitFor(
        () =>
          follower.of('status').some((status) => status.master === master.id) &&
          master.of('status').some((status) => status.isMaster && status.master === master.id),
        'both to see the master in Redis',
        DEADLINE_MS,
      );
      expect(follower.of('elected'), output()).toEqual([]);
      expect(follower.of('run'), output()).toEqual([]);
      expect(
        follower.of('status').every((status) => !status.isMaster),
        output(),
      ).toBe(true);
      expect(master.of('elected'), output()).toHaveLength(1);
      for (const run of master.of('run'))
        expect(run, output()).toMatchObject({ term: firstTerm, isMaster: true, aborted: false });

      // SIGTERM: the master closes, releases its lease and exits 0.
      master.signal('SIGTERM');
      await waitFor(() => master.exit, 'the master to exit', DEADLINE_MS);
      expect(master.exit, output()).toEqual({ code: 0, signal: null });
      expect(master.of('revoked'), output()).toEqual([
        expect.objectContaining({ name: ELECTION, term: firstTerm, reason: 'shutdown' }),
      ]);
      expect(master.of('closed'), output()).toHaveLength(1);

      // The follower takes over well before the lease could have expired, and runs the job.
      await waitFor(
        () => follower.of('elected').length > 0,
        'the follower to take over (the released lease)',
        HAND_OVER_DEADLINE_MS,
      ).catch((error: Error) => {
        throw new Error(`${error.message}\n${output()}`);
      });
      const [{ term: secondTerm }] = follower.of('elected');
      expect(secondTerm, output()).toBeGreaterThan(firstTerm!);
      await waitFor(
        () => follower.of('run').some((run) => run.term === secondTerm),
        'the new master to run its job',
        DEADLINE_MS,
      );
      for (const run of follower.of('run'))
        expect(run, output()).toMatchObject({ term: secondTerm, isMaster: true });

      // It stops as cleanly.
      follower.signal('SIGTERM');
      await waitFor(() => follower.exit, 'the new master to exit', DEADLINE_MS);
      expect(follower.exit, output()).toEqual({ code: 0, signal: null });
      expect(follower.of('revoked'), output()).toEqual([
        expect.objectContaining({ term: secondTerm, reason: 'shutdown' }),
      ]);

      // Neither logged an error, nor printed anything on stderr (no warning).
      for (const node of nodes) {
        expect(node.of('error'), node.output).toEqual([]);
        expect(node.stderr, node.output).toBe('');
      }
    },
    DEADLINE_MS * 5 + HAND_OVER_DEADLINE_MS,
  );
});
