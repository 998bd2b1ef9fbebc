import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '#tools/free-port.js';
import type { Summary } from '../../sample/src/demo/summary.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

/**
 * `npm run demo -- --script` end to end: real processes, a real Redis, signals. The scenario takes
 * about 20 s with the default timings; the other runs use a shorter lease.
 */
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEMO = join(ROOT, 'sample/dist/demo/main.js');
/** After this the demo is interrupted (SIGINT to its process group), so that it still cleans up. */
const DEMO_TIMEOUT_MS = 100_000;
const TEST_TIMEOUT_MS = DEMO_TIMEOUT_MS + 20_000;

interface DemoRun {
  code: number | null;
  output: string;
  summary: Summary;
}

const outputs: string[] = [];

/** Runs the demo to its end in a process group of its own, and reads its summary. */
function runDemo(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const collect = (chunk: Buffer) => (output += chunk.toString());
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, signal);
      } catch {
        // gone
      }
    };
    const interrupt = setTimeout(() => signalGroup('SIGINT'), DEMO_TIMEOUT_MS);
    const kill = setTimeout(() => signalGroup('SIGKILL'), DEMO_TIMEOUT_MS + 15_000);
    child.on('close', (code) => {
      clearTimeout(interrupt);
      clearTimeout(kill);
      outputs.push(output);
      const line = output.split('\n').find((l) => l.startsWith('summary-json '));
      if (!line) return reject(new Error(`the demo printed no summary (exit ${code}):\n${output}`));
      resolve({ code, output, summary: JSON.parse(line.slice('summary-json '.length)) as Summary });
    });
  });
}

/** Running, and not a zombie; a zombie has exited, it only waits for its parent to notice. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The process's command line, to be sure a pid is still the one the demo started. */
function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** What every scripted run must show, whatever the store. */
function expectAGoodRun({ code, output, summary }: DemoRun): void {
  expect(summary.problems, output).toEqual([]);
  expect(summary.error, output).toBeUndefined();
  expect(code, output).toBe(0);
  expect(summary.ok).toBe(true);

  // Hand-overs happened, one after each thing the scenario did to the master.
  const causes = summary.handOvers.map((h) => h.cause ?? '');
  for (const cause of ['killed (SIGKILL)', 'stopped (SIGTERM)', 'paused (SIGSTOP)'])
    expect(
      causes.some((c) => c.endsWith(cause)),
      `${cause} in ${causes.join('; ')}`,
    ).toBe(true);
  for (const handOver of summary.handOvers)
    expect(handOver.toTerm).toBeGreaterThan(handOver.fromTerm);

  // Every pause ended with the paused node stepping down.
  expect(summary.pauses.length).toBeGreaterThan(0);
  for (const pause of summary.pauses) expect(pause, output).toMatchObject({ steppedDown: true });

  // No interval had two masters, checked here apart from the demo's own checks: in the order they
  // happened, runs never go back to an older term, and each term is one node's.
  const runs = [...summary.runs].sort((a, b) => a.at - b.at);
  expect(runs.length).toBeGreaterThan(5);
  const nodeOfTerm = new Map<number, string>();
  runs.forEach((run, i) => {
    if (i > 0) expect(run.term).toBeGreaterThanOrEqual(runs[i - 1].term);
    expect(nodeOfTerm.get(run.term) ?? run.nodeId).toBe(run.nodeId);
    nodeOfTerm.set(run.term, run.nodeId);
  });
  expect(nodeOfTerm.size).toBeGreaterThanOrEqual(4);

  // The sample's GET /kettle answered on every node.
  expect(summary.nodes.length).toBeGreaterThanOrEqual(4);
  for (const node of summary.nodes) expect(node, output).toMatchObject({ answeredHttp: true });

  // Nothing the demo started is left.
  expect(summary.leftover).toEqual([]);
  for (const pid of summary.startedPids) expect(isRunning(pid), `pid ${pid}`).toBe(false);
}

describe('npm run demo -- --script', () => {
  afterAll(() => {
    // Should a run fail half-way, nothing it printed as started may outlive the tests.
    for (const [, pid] of outputs.join('\n').matchAll(/\(pid (\d+)\)/g)) {
      const command = commandOf(Number(pid));
      if (/sample\/dist\/demo\/node\.js|redis-server/.test(command))
        process.kill(Number(pid), 'SIGKILL');
    }
  });

  it(
    'on a real Redis: hand-overs, paused masters step down, one master per interval, nothing left',
    async () => {
      const run = await runDemo('npm', ['run', 'demo', '--', '--script'], {
        ...process.env,
        REDIS_URL: SHARED_REDIS_URL,
      });
      expectAGoodRun(run);
      expect(run.summary.store).toBe('redis');
      expect(run.summary.startedPids.length).toBe(run.summary.nodes.length);
      // Without --elections, nothing of balancing.
      expect(run.summary.balance).toBeUndefined();
      expect(run.output).not.toContain('balance');
      // It tidied up its keys in the shared Redis.
      const redis = new Redis(SHARED_REDIS_URL);
      try {
        expect(await redis.keys(`${run.summary.keyPrefix}*`)).toEqual([]);
      } finally {
        redis.disconnect();
      }
    },
    TEST_TIMEOUT_MS,
  );

  it(
    "with --cron '*/2 * * * * *': the job runs once per slot of the schedule, across hand-overs",
    async () => {
      const run = await runDemo(
        'npm',
        ['run', 'demo', '--', '--script', '--cron', '*/2 * * * * *'],
        {
          ...process.env,
          REDIS_URL: SHARED_REDIS_URL,
        },
      );
      expectAGoodRun(run);
      expect(run.output).toContain("kettle.schedule('report-on-cron', { cron: '*/2 * * * * *' })");
      const slots = run.summary.runs.map((r) => r.slot);
      // Every run is for a slot of the expression (even seconds), none ran twice, and none
      // started before its slot (the nodes and Redis share this machine's clock).
      for (const slot of slots) expect(slot % 2000).toBe(0);
      expect(new Set(slots).size).toBe(slots.length);
      for (const r of run.summary.runs) expect(r.at).toBeGreaterThanOrEqual(r.slot);
      // Slots run by more than one master: the schedule went on across the hand-overs.
      expect(new Set(run.summary.runs.map((r) => r.nodeId)).size).toBeGreaterThanOrEqual(3);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'with --elections 9: each settled spread within one of ⌈9 / nodes up⌉, through every step',
    async () => {
      const run = await runDemo(
        process.execPath,
        [DEMO, '--script', '--elections', '9', '--lease-ms', '1500'],
        { ...process.env, REDIS_URL: SHARED_REDIS_URL },
      );
      expectAGoodRun(run);
      expect(run.output).toContain('each also joins job-1 … job-9 with balance: true');
      const { balance, handOvers } = run.summary;
      expect(balance?.elections).toBe(9);
      const spreads = balance!.spreads;
      // One at least after each step: the start, the kill, the added node, the stop, the pause.
      expect(spreads.length, run.output).toBeGreaterThanOrEqual(5);
      for (const { leading } of spreads) {
        const counts = Object.values(leading);
        const share = Math.ceil(9 / counts.length);
        expect(
          counts.reduce((sum, count) => sum + count, 0),
          JSON.stringify(leading),
        ).toBe(9);
        for (const count of counts)
          expect(Math.abs(count - share), JSON.stringify(leading)).toBeLessThanOrEqual(1);
      }
      // The three nodes started with split the nine evenly, and the log says so.
      expect(Object.values(spreads[0].leading)).toEqual([3, 3, 3]);
      expect(run.output).toMatch(/balanced: \w+: 3 {2}\w+: 3 {2}\w+: 3 /);
      // After the kill and after the stop, it settled again over the others, who took the gone
      // node's share (each spread above sums to 9).
      for (const cause of ['killed (SIGKILL)', 'stopped (SIGTERM)']) {
        const gone = handOvers.find((h) => h.cause?.endsWith(cause))!;
        const after = spreads.filter((spread) => spread.at > gone.at);
        expect(after.length, cause).toBeGreaterThan(0);
        for (const spread of after) expect(Object.keys(spread.leading)).not.toContain(gone.from);
      }
      // The even split came from graceful hand-overs, not from leases running out alone.
      expect(balance!.rebalanced).toBeGreaterThan(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'with no Redis at REDIS_URL: starts a private redis-server, and stops it at the end',
    async () => {
      const closedPort = await freePort();
      const run = await runDemo(process.execPath, [DEMO, '--script', '--lease-ms', '1500'], {
        ...process.env,
        REDIS_URL: `redis://127.0.0.1:${closedPort}`,
      });
      expectAGoodRun(run);
      expect(run.summary.store).toBe('private-redis');
      expect(run.output).toContain('started its own redis-server');
      // The nodes' pids and one more: redis-server's.
      expect(run.summary.startedPids.length).toBe(run.summary.nodes.length + 1);
      const redis = new Redis(run.summary.redisUrl!, {
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      redis.on('error', () => undefined);
      await expect(redis.connect()).rejects.toThrow();
      redis.disconnect();
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'with no Redis and no redis-server on PATH: runs the nodes inside one process on the memory store',
    async () => {
      const closedPort = await freePort();
      // A PATH with nothing on it: no redis-server to start. The demo runs as node's absolute path.
      const emptyDir = mkdtempSync(join(tmpdir(), 'no-redis-'));
      const run = await runDemo(process.execPath, [DEMO, '--script', '--lease-ms', '1500'], {
        ...process.env,
        PATH: emptyDir,
        REDIS_URL: `redis://127.0.0.1:${closedPort}`,
      }).finally(() => rmSync(emptyDir, { recursive: true }));
      expectAGoodRun(run);
      expect(run.summary.store).toBe('memory');
      expect(run.output).toContain('inside this process on the memory store');
      expect(run.output).toContain('For the real thing');
      expect(run.summary.startedPids).toEqual([]);
    },
    TEST_TIMEOUT_MS,
  );
});
