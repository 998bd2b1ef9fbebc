import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '#tools/wait.js';
import { Kettle, type KettleLogger, type MasterContext } from '../../lib/core/index.js';
import { uniquePrefix } from '../support/nodes.js';
import { SHARED_REDIS_URL } from '../support/shared-redis.js';

const silent: KettleLogger = { log() {}, warn() {}, error() {}, debug() {} };

describe('nestjs-kettle/core: Kettle without Nest', () => {
  const kettles: Kettle[] = [];
  const children: ChildProcess[] = [];
  afterEach(async () => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    await Promise.all(kettles.splice(0).map((kettle) => kettle.stop()));
  });

  function node(nodeId: string, keyPrefix: string, runs: Array<[string, number]>): Kettle {
    const kettle = new Kettle({
      redis: SHARED_REDIS_URL,
      keyPrefix,
      nodeId,
      interval: 200,
      allowShortInterval: true,
      leaseTtl: 1500,
      logger: silent,
    });
    kettle.join('report', { run: ({ term }: MasterContext) => void runs.push([nodeId, term]) });
    kettles.push(kettle);
    return kettle;
  }

  it('elects one master among Kettles, runs its job, and hands over on stop() with a higher term', async () => {
    const prefix = uniquePrefix();
    const runs: Array<[string, number]> = [];
    const nodes = [node('a', prefix, runs), node('b', prefix, runs)];
    expect(nodes[0].isMaster('report')).toBe(false); // not started yet: no election runs
    for (const kettle of nodes) kettle.start();
    const master = await waitFor(() => nodes.find((k) => k.isMaster('report')), 'a master');
    const other = nodes.find((k) => k !== master)!;
    await waitFor(() => runs.length >= 2, 'two runs');
    expect(new Set(runs.map(([id]) => id))).toEqual(new Set([master.nodeId]));
    expect(other.isMaster('report')).toBe(false);
    expect(await other.getMaster('report')).toBe(master.nodeId);
    const firstTerm = master.term('report')!;

    const changes: boolean[] = [];
    other.onChange((change) => changes.push(change.isMaster));
    await master.stop();
    await waitFor(() => other.isMaster('report'), 'the other node to take over', 1000);
    expect(other.term('report')).toBeGreaterThan(firstTerm);
    expect(changes).toEqual([true]);
    expect(other.stats('report')).toMatchObject({ isMaster: true, elected: 1 });
  });

  it('says which elections this node leads', async () => {
    const prefix = uniquePrefix();
    const runs: Array<[string, number]> = [];
    const [a, b] = [node('a', prefix, runs), node('b', prefix, runs)];
    for (const name of ['x', 'y']) for (const kettle of [a, b]) kettle.join(name);
    a.start();
    await waitFor(() => a.leading().length === 3, 'a to lead every election');
    expect(a.leading().sort()).toEqual(['report', 'x', 'y']);
    b.start();
    // Left, not resigned: a resigner contends again after a retry period, and could win x back
    // from a b still connecting on a busy machine.
    await a.leave('x');
    await waitFor(() => b.isMaster('x'), 'b to take x');
    expect(b.leading()).toEqual(['x']);
    expect(a.leading().sort()).toEqual(['report', 'y']);
  });

  it('names a bad option and its value when constructed', () => {
    expect(() => new Kettle({ logger: console.log as never })).toThrow(
      /invalid option "logger": a function; expected an object with log, warn, error, debug methods/,
    );
    expect(() => new Kettle({ interval: -1 })).toThrow(/"interval": -1/);
  });

  it('logs to the logger it is given', async () => {
    const lines: string[] = [];
    const logger: KettleLogger = { ...silent, log: (message) => void lines.push(message) };
    const kettle = new Kettle({
      redis: SHARED_REDIS_URL,
      keyPrefix: uniquePrefix(),
      leaseTtl: 1500,
      verbose: true,
      logger,
    });
    kettles.push(kettle);
    kettle.join('logged');
    kettle.start();
    await waitFor(() => lines.some((line) => line.includes('is master')), 'a log line');
  });

  it('runs in a plain Node process that cannot import Nest, rxjs or reflect-metadata', async () => {
    const prefix = uniquePrefix();
    const worker = (nodeId: string) => {
      const child = spawn(
        process.execPath,
        [
          '--import',
          fileURLToPath(new URL('forbid-nest.mjs', import.meta.url)),
          'plain-worker.mjs',
        ],
        {
          cwd: fileURLToPath(new URL('.', import.meta.url)),
          env: {
            ...process.env,
            REDIS_URL: SHARED_REDIS_URL,
            KETTLE_PREFIX: prefix,
            NODE_ID: nodeId,
          },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      children.push(child);
      const events: Array<Record<string, unknown>> = [];
      const logs: string[] = [];
      let stderr = '';
      // Whole lines: a chunk of stdout may end mid-line. kettle's own log lines start `[Kettle]`.
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.startsWith('[Kettle]')) logs.push(line);
        else if (line.trim()) events.push(JSON.parse(line));
      });
      child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
      return { child, events, logs, stderr: () => stderr };
    };
    const first = worker('w1');
    await waitFor(
      () => first.events.some((e) => e.event === 'run') || first.child.exitCode !== null,
      'the worker to run its job',
    );
    expect(first.stderr()).toBe('');
    // One line at start says where, under which prefix, as whom, for what.
    const redis = new URL(SHARED_REDIS_URL);
    expect(first.logs).toEqual([
      `[Kettle] node "w1" starts on Redis redis://${redis.host}, key prefix "${prefix}", elections: "report"`,
    ]);
    const second = worker('w2');
    await waitFor(() => second.events.some((e) => e.event === 'started'), 'the second worker');
    first.child.kill('SIGTERM');
    const [code] = await once(first.child, 'exit');
    expect(code).toBe(0);
    expect(first.events.at(-1)).toEqual({ event: 'stopped' });
    await waitFor(() => second.events.some((e) => e.event === 'run'), 'the second worker to run');
    const terms = [first, second].map(
      (w) => w.events.find((e) => e.event === 'run')!.term as number,
    );
    expect(terms[1]).toBeGreaterThan(terms[0]);
  });
});
