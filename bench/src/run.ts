import { createWriteStream, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { children } from '#tools/children.js';
import { RedisServer } from '#tools/redis-server.js';
import { type BenchConfig, FULL, SMOKE } from './config.js';
import type { Stage } from './cluster/cluster.js';
import { redisVersion } from './infra/command-stats.js';
import { revision, snapshot } from './infra/snapshot.js';
import { peer } from './peers.js';
import { failoverChart } from './report/svg.js';
import { CRON_END, CRON_START, cronSection } from './report/cron.js';
import { report } from './report/markdown.js';
import type { BenchResults } from './results.js';
import { cronSession } from './scenarios/cron.js';
import { failoverSession } from './scenarios/failover-session.js';
import { electionScaleStep } from './scenarios/scale-elections.js';
import { nodeScaleStep } from './scenarios/scale-nodes.js';
import { versions } from './versions.js';

/**
 * `npm run bench` (full, writes bench/REPORT.md and bench/failover.svg) or `npm run bench:smoke`
 * (a short run whose report goes to bench/results/smoke/). `--report-only` rewrites the report
 * from the last run's results without measuring again. `--only cron` measures the cron scenario
 * alone and replaces only the cron section of the report.
 */
const args = process.argv.slice(2);
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
if (only !== undefined && only !== 'cron') {
  console.error(`--only takes one section: cron (got ${String(only)})`);
  process.exit(2);
}
const config = args.includes('--smoke') ? SMOKE : FULL;
const bench = new URL('../', import.meta.url);
const scratch = new URL(`results/${config.mode}/`, bench);
const output = config.mode === 'full' ? bench : scratch;
const resultsFile = new URL(only ? `results-${only}.json` : 'results.json', scratch);
mkdirSync(scratch, { recursive: true });

const started = performance.now();
const progress = (line: string) =>
  console.log(`[${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${line}`);

/** Every process the bench started dies with it: on exit, on an error, on Ctrl-C or SIGTERM. */
function killChildrenOnExit(): void {
  children.killOnExit();
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const)
    process.once(signal, () => process.exit(130));
}

async function measure(config: BenchConfig): Promise<BenchResults> {
  killChildrenOnExit();
  const log = createWriteStream(new URL('nodes.log', scratch));
  const loadBefore = loadavg()[0]!;
  const nodesDir = await snapshot(fileURLToPath(new URL('snapshot/', scratch)));
  const redis = await RedisServer.start();
  const stage = { redis, log, nodesDir };
  const results: BenchResults = {
    config,
    startedAt: new Date().toISOString(),
    seconds: 0,
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? 'unknown',
      memoryGb: Math.round(totalmem() / 2 ** 30),
      node: process.version,
      redis: await redisVersion(redis.admin),
      loadBefore,
      loadAfter: 0,
    },
    versions: { ...versions(), revision: revision() },
    sessions: [],
    electionScale: [],
    nodeScale: [],
    skipped: [],
    cron: [],
  };
  progress(`${config.mode} bench on redis-server ${results.machine.redis}, port ${redis.port}`);
  if (!only) await comparisons(results, stage);
  for (const id of config.cron.peers) {
    progress(`cron: ${id}`);
    try {
      results.cron!.push(await cronSession(peer(id), stage, { ...config }, progress));
    } catch (error) {
      results.skipped.push(`Cron scenario for ${id}: ${describe(error)}`);
    }
  }
  await redis.kill();
  log.end();
  results.machine.loadAfter = loadavg()[0]!;
  results.seconds = (performance.now() - started) / 1000;
  return results;
}

/** Sections 1 to 5: every peer on the interval job, and the scale steps. */
async function comparisons(results: BenchResults, stage: Stage): Promise<void> {
  const { interval, leaseTtl } = config;
  for (const id of config.peers) {
    progress(`scenarios 1-4: ${id}`);
    try {
      results.sessions.push(await failoverSession(peer(id), stage, config, progress));
    } catch (error) {
      results.skipped.push(`Scenarios 1-4 for ${id}: ${describe(error)}`);
    }
  }
  const { scaleElections: elections, scaleNodes: nodes } = config;
  for (const id of elections.peers) {
    for (const count of elections.levels) {
      progress(`scale: ${id} with ${count} elections in one process`);
      const settings = { interval, leaseTtl, ...elections };
      const failover = elections.failoverPeers.includes(id);
      const step = await electionScaleStep(peer(id), count, stage, { ...settings, failover });
      if (step.error) progress(`  ${id} at ${count} elections: ${step.error}`);
      results.electionScale.push(step);
    }
  }
  for (const id of nodes.peers) {
    for (const count of nodes.levels) {
      progress(`scale: ${id} with ${count} nodes on one election`);
      const step = await nodeScaleStep(peer(id), count, stage, { interval, leaseTtl, ...nodes });
      if (step.error) progress(`  ${id} at ${count} nodes: ${step.error}`);
      results.nodeScale.push(step);
    }
  }
}

/**
 * The report as it is, with its cron section replaced by `section` (or put in before "How it was
 * measured"); the section alone when there is no report yet.
 */
function withSection(section: string): string {
  let current: string;
  try {
    current = readFileSync(reportFile, 'utf8');
  } catch {
    return `${section}\n`;
  }
  const start = current.indexOf(CRON_START);
  const end = current.indexOf(CRON_END);
  if (start >= 0 && end > start)
    return current.slice(0, start) + section + current.slice(end + CRON_END.length);
  const before = current.indexOf('## How it was measured');
  if (before < 0) return `${current}\n${section}\n`;
  return `${current.slice(0, before)}${section}\n\n${current.slice(before)}`;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const results = args.includes('--report-only')
  ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as BenchResults)
  : await measure(config);
writeFileSync(resultsFile, `${JSON.stringify(results, null, 1)}\n`);
const reportFile = new URL('REPORT.md', output);
// Formatted as `prettier --write` would, so that the generated file stays as the tools leave it.
const style = await resolveConfig(fileURLToPath(reportFile));
if (only) {
  const section = cronSection(results);
  writeFileSync(reportFile, await format(withSection(section), { ...style, parser: 'markdown' }));
} else {
  writeFileSync(new URL('failover.svg', output), failoverChart(results));
  writeFileSync(reportFile, await format(report(results), { ...style, parser: 'markdown' }));
}
progress(`report: ${fileURLToPath(reportFile)}`);
process.exit(0);
