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
import { PEERS, type PeerId, peer } from './peers.js';
import { failoverChart, scaleChart } from './report/svg.js';
import { BALANCE_END, BALANCE_START, balanceSection } from './report/balance.js';
import { CRASH_END, CRASH_START, crashSection } from './report/crash.js';
import { CRON_END, CRON_START, cronSection } from './report/cron.js';
import { cadenceOf, executedPerElection, sentPerElection } from './report/metrics.js';
import { electionScaleSection, masterOf, SCALE_END, SCALE_START } from './report/scale.js';
import {
  SCALE_TARGETS_END,
  SCALE_TARGETS_START,
  scaleTargets,
  SENT_PER_ELECTION,
} from './report/targets.js';
import { report } from './report/markdown.js';
import type { BenchResults } from './results.js';
import { balanceSession } from './scenarios/balance.js';
import { crashSession } from './scenarios/crash.js';
import { cronSession } from './scenarios/cron.js';
import { failoverSession } from './scenarios/failover-session.js';
import { type ElectionScaleStep, electionScaleStep } from './scenarios/scale-elections.js';
import { nodeScaleStep } from './scenarios/scale-nodes.js';
import { versions } from './versions.js';

/**
 * `npm run bench` (full, writes bench/REPORT.md and bench/failover.svg) or `npm run bench:smoke`
 * (a short run whose report goes to bench/results/smoke/). `--report-only` rewrites the report
 * from the last run's results without measuring again. `--only cron` measures the cron scenario
 * alone and replaces only the cron section of the report; `--only scale` does the same for the
 * elections-scale steps (their section, kettle's targets for them, and scale.svg), `--only balance`
 * for the balance scenario, `--only crash` for the crash section.
 * `--levels 1,100,1000` replaces the elections-scale levels of the configuration, and
 * `--peers kettle,redis-leader` keeps only those peers in the comparisons and the elections-scale
 * steps (one step again, the peers side by side).
 */
const args = process.argv.slice(2);
const SECTIONS = ['cron', 'scale', 'balance', 'crash'] as const;
type Section = (typeof SECTIONS)[number];
const only = args.includes('--only') ? args[args.indexOf('--only') + 1] : undefined;
if (only !== undefined && !(SECTIONS as readonly string[]).includes(only)) {
  console.error(`--only takes one section: ${SECTIONS.join(', ')} (got ${String(only)})`);
  process.exit(2);
}
const config = withPeers(withLevels(args.includes('--smoke') ? SMOKE : FULL));

function withLevels(base: BenchConfig): BenchConfig {
  if (!args.includes('--levels')) return base;
  const levels = String(args[args.indexOf('--levels') + 1])
    .split(',')
    .map(Number);
  if (levels.some((n) => !Number.isInteger(n) || n < 1)) {
    console.error('--levels takes elections per step, comma-separated: 1,100,1000');
    process.exit(2);
  }
  return { ...base, scaleElections: { ...base.scaleElections, levels } };
}
function withPeers(base: BenchConfig): BenchConfig {
  if (!args.includes('--peers')) return base;
  const ids = String(args[args.indexOf('--peers') + 1]).split(',');
  const known = PEERS.map((peer) => peer.id) as string[];
  const unknown = ids.filter((id) => !known.includes(id));
  if (unknown.length > 0 || ids.length === 0) {
    console.error(`--peers takes some of ${known.join(', ')} (got ${unknown.join(', ')})`);
    process.exit(2);
  }
  const kept = (peers: readonly PeerId[]) => peers.filter((id) => ids.includes(id));
  return {
    ...base,
    peers: kept(base.peers),
    scaleElections: { ...base.scaleElections, peers: kept(base.scaleElections.peers) },
  };
}
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
    balance: [],
    crash: [],
  };
  progress(`${config.mode} bench on redis-server ${results.machine.redis}, port ${redis.port}`);
  if (!only) await comparisons(results, stage);
  if (!only || only === 'scale') await electionScale(results, stage);
  const cronPeers = !only || only === 'cron' ? config.cron.peers : [];
  for (const id of cronPeers) {
    progress(`cron: ${id}`);
    try {
      results.cron!.push(await cronSession(peer(id), stage, { ...config }, progress));
    } catch (error) {
      results.skipped.push(`Cron scenario for ${id}: ${describe(error)}`);
    }
  }
  const balancePeers = !only || only === 'balance' ? config.balance.peers : [];
  for (const id of balancePeers) {
    progress(`balance: ${id}`);
    try {
      results.balance!.push(await balanceSession(peer(id), stage, config, progress));
    } catch (error) {
      results.skipped.push(`Balance scenario for ${id}: ${describe(error)}`);
    }
  }
  const crashPeers = !only || only === 'crash' ? config.crash.peers : [];
  for (const id of crashPeers) {
    progress(`crash: ${id}`);
    try {
      results.crash!.push(await crashSession(peer(id), stage, config, progress));
    } catch (error) {
      results.skipped.push(`Crash section for ${id}: ${describe(error)}`);
    }
  }
  await redis.kill();
  log.end();
  results.machine.loadAfter = loadavg()[0]!;
  results.seconds = (performance.now() - started) / 1000;
  return results;
}

/** Sections 1 to 4 and nodes on one election: every peer on the interval job. */
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
  const nodes = config.scaleNodes;
  for (const id of nodes.peers) {
    for (const count of nodes.levels) {
      progress(`scale: ${id} with ${count} nodes on one election`);
      const step = await nodeScaleStep(peer(id), count, stage, { interval, leaseTtl, ...nodes });
      if (step.error) progress(`  ${id} at ${count} nodes: ${step.error}`);
      results.nodeScale.push(step);
    }
  }
}

/** Section 5's elections in one process: every level, for every peer of the step, on 2 nodes. */
async function electionScale(results: BenchResults, stage: Stage): Promise<void> {
  const { interval, leaseTtl, scaleElections: elections } = config;
  for (const id of elections.peers) {
    for (const count of elections.levels) {
      progress(`scale: ${id} with ${count} elections on each of 2 nodes`);
      const settings = { interval, leaseTtl, ...elections };
      const failover = elections.failoverPeers.includes(id);
      const step = await electionScaleStep(peer(id), count, stage, { ...settings, failover });
      if (step.error) progress(`  ${id} at ${count} elections: ${step.error}`);
      else progress(`  ${id} at ${count} elections: ${scaleLine(step)}`);
      results.electionScale.push(step);
    }
  }
}

/** One step's figures on the console, as the report will show them, for whoever runs it alone. */
function scaleLine(step: ElectionScaleStep): string {
  const sent = sentPerElection(step);
  const executed = executedPerElection(step);
  const runner = step.cost?.runner;
  if (sent === undefined || executed === undefined || !runner) return 'no figures';
  return (
    `sent ${sent.toFixed(3)} / executed ${executed.toFixed(3)} per election per s, ` +
    `runner CPU ${runner.cpuPercent.toFixed(1)} %, event-loop delay p99 ${runner.eld.p99.toFixed(1)} ms, ` +
    `${cadenceOf(step)}, one master: ${masterOf(step)}, ` +
    `take-over ${step.gracefulAllMs?.toFixed(0) ?? '-'} / ${step.crashAllMs?.toFixed(0) ?? '-'} ms`
  );
}

/**
 * `report` with the part between `start` and `end` replaced by `section` (which carries its own
 * markers), or put in before `before` (or at the end) when the report has no such part.
 */
function withSection(
  report: string,
  section: string,
  [start, end]: readonly [string, string],
  before: string,
): string {
  const from = report.indexOf(start);
  const to = report.indexOf(end);
  if (from >= 0 && to > from)
    return report.slice(0, from) + section + report.slice(to + end.length);
  const at = report.indexOf(before);
  if (at < 0) return `${report}\n${section}\n`;
  return `${report.slice(0, at)}${section}\n\n${report.slice(at)}`;
}

/**
 * A report written before the elections-scale parts had markers, without its elections-scale
 * subsection and its old target row, so that `--only scale` puts the new ones in their place.
 */
function withoutUnmarkedScale(report: string): string {
  if (report.includes(SCALE_START)) return report;
  const from = report.indexOf('### Elections in one process');
  const to = report.indexOf('### Nodes on one election');
  const cut = from >= 0 && to > from ? report.slice(0, from) + report.slice(to) : report;
  return cut
    .split('\n')
    .filter((line) => !line.startsWith('| cost per election flat'))
    .join('\n');
}

/** The report as it is, with only the `--only` section's parts replaced. */
function withOnly(section: Section): string {
  let current = '';
  try {
    current = readFileSync(reportFile, 'utf8');
  } catch {
    // No report yet: the section alone.
  }
  if (section === 'cron')
    return withSection(
      current,
      cronSection(results),
      [CRON_START, CRON_END],
      '## How it was measured',
    );
  if (section === 'balance')
    return withSection(
      current,
      balanceSection(results),
      [BALANCE_START, BALANCE_END],
      '## How it was measured',
    );
  if (section === 'crash')
    return withSection(
      current,
      crashSection(results),
      [CRASH_START, CRASH_END],
      '## How it was measured',
    );
  const targetsBefore = '### Where a peer is better than kettle';
  const withTargets = withSection(
    withoutUnmarkedScale(current),
    scaleTargets(results),
    [SCALE_TARGETS_START, SCALE_TARGETS_END],
    targetsBefore,
  );
  return withSection(
    withTargets,
    electionScaleSection(results, true),
    [SCALE_START, SCALE_END],
    '### Nodes on one election',
  );
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
  if (only === 'scale')
    writeFileSync(new URL('scale.svg', output), scaleChart(results, SENT_PER_ELECTION));
  const report = withOnly(only as Section);
  writeFileSync(reportFile, await format(report, { ...style, parser: 'markdown' }));
} else {
  writeFileSync(new URL('failover.svg', output), failoverChart(results));
  writeFileSync(new URL('scale.svg', output), scaleChart(results, SENT_PER_ELECTION));
  writeFileSync(reportFile, await format(report(results), { ...style, parser: 'markdown' }));
}
progress(`report: ${fileURLToPath(reportFile)}`);
process.exit(0);
