import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { children } from '#tools/children.js';
import { Actions } from './actions.js';
import { type Backend, chooseBackend, GET_REDIS } from './backend.js';
import type { Cluster, NodeSettings } from './cluster.js';
import { ClusterState } from './cluster-state.js';
import { balancedElectionNames } from '../balanced-elections.js';
import { bold, rangeText, seconds } from './format.js';
import { InProcessCluster } from './in-process-cluster.js';
import { stillRunning } from './leftovers.js';
import { LEAVE, LiveView } from './live-view.js';
import { type DemoOptions, parseOptions, USAGE } from './options.js';
import { ProcessCluster } from './process-cluster.js';
import { reportElection } from '../report-schedule.js';
import { runScenario } from './scenario.js';
import { StatusPoller } from './status-poller.js';
import { buildSummary, summaryText } from './summary.js';

/**
 * `npm run demo`: several nodes of the sample app electing a master, live in the terminal, or
 * (--script) through a fixed scenario with a log and a summary. Whatever happens, every process it
 * started is gone when it exits.
 */
async function main(): Promise<number> {
  let options: DemoOptions;
  try {
    options = parseOptions(process.argv.slice(2), process.env);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const interactive = !options.script && process.stdout.isTTY && process.stdin.isTTY;
  const startedAt = Date.now();
  const print = (text: string) => process.stdout.write(`${text}\n`);
  const log = (text: string) =>
    print(`[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)} s] ${text}`);

  const { nodes, intervalMs, leaseMs, pauseMs, cron, elections = 0 } = options;
  // A spread settles within a few beats of the balancer, a third of the lease each.
  const state = new ClusterState(
    elections > 0 ? { elections: balancedElectionNames(elections), settleMs: leaseMs } : undefined,
  );
  let backend: Backend | undefined;
  let cluster: Cluster | undefined;
  let view: LiveView | undefined;
  // Last resort, for a crash: nothing the demo started may outlive it.
  children.killOnExit();
  process.on('exit', () => {
    if (view) process.stdout.write(LEAVE);
  });
  const interrupted = () => state.failure?.startsWith('interrupted') ?? false;
  const interrupt = (why: string) => {
    if (interrupted()) process.exit(130); // twice: stop waiting
    state.failure = `interrupted (${why})`;
    view?.quit();
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, interrupt);
  // `npm run demo` runs this under `sh -c "… && node …"`: a SIGTERM to npm ends npm and sh but
  // never reaches the demo, which is handed to init. A new parent is the sign to stop.
  const parent = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(parentWatch);
    interrupt('the process that started the demo has gone');
  }, 500).unref();

  const job = cron
    ? `kettle.schedule('${reportElection(cron)}', { cron: '${cron}' }), which runs once per slot`
    : `@OnMaster('report'), which runs every ${seconds(intervalMs)}`;
  const balanced = state.balance
    ? `; each also joins ${rangeText(state.balance.elections)} with balance: true`
    : '';
  const title = `nestjs-kettle demo: ${nodes} nodes elect a master for ${job}; lease ${seconds(leaseMs)}${balanced}`;
  print(title);
  backend = await chooseBackend(options.redisUrl);
  print(`leases in: ${backend.description}`);
  const keyPrefix = `kettle-demo:${randomBytes(3).toString('hex')}:`;
  const settings: NodeSettings = {
    intervalMs,
    leaseMs,
    cron,
    keyPrefix,
    redisUrl: backend.url,
    elections,
  };
  cluster =
    backend.kind === 'memory'
      ? new InProcessCluster(settings, state)
      : new ProcessCluster(settings, state);
  print(`nodes: ${cluster.description}${cluster.caveat ? `\n(${cluster.caveat})` : ''}`);
  const actions = new Actions(cluster, state, pauseMs);
  const poller = new StatusPoller(state, reportElection(cron));
  state.on('message', (text: string) => view || log(text));

  let error: string | undefined;
  poller.start();
  try {
    if (state.failure) throw new Error(state.failure); // a signal while looking for Redis
    if (interactive) {
      view = new LiveView(
        state,
        actions,
        [
          bold(`  ${title}`),
          `  leases in: ${backend.kind === 'memory' ? 'the memory store of this process (no Redis found: see the note at exit)' : `${backend.url}, keys under ${keyPrefix}`}`,
          `  nodes: ${cluster.description}`,
          ...(cluster.caveat ? [`  (${cluster.caveat})`] : []),
        ],
        leaseMs,
        pauseMs,
      );
      await view.run(async () => {
        for (let i = 0; i < nodes; i++) await actions.addNode();
      });
      view = undefined;
    } else {
      await runScenario(state, actions, options, log);
    }
  } catch (caught) {
    view = undefined;
    error = caught instanceof Error ? caught.message : String(caught);
    log(`stopped early: ${error}`);
  }

  log(
    `stopping every node${backend.kind === 'private-redis' ? ' and the private redis-server' : ''}`,
  );
  state.quitting = true;
  poller.stop();
  actions.resumeAll();
  await cluster.shutdown();
  await backend
    .close(keyPrefix)
    .catch((e: unknown) => log(`could not tidy up Redis: ${String(e)}`));
  const startedPids = [...cluster.pids, ...(backend.pid === undefined ? [] : [backend.pid])];
  const summary = buildSummary({
    state,
    backend,
    keyPrefix,
    intervalMs,
    startedPids,
    leftover: stillRunning(startedPids),
    error,
  });
  print(summaryText(summary));
  if (backend.kind === 'memory') print(GET_REDIS);
  if (!interactive) print(`summary-json ${JSON.stringify(summary)}`);
  if (interrupted()) return 130;
  return summary.ok || (interactive && !error) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`demo failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  },
);
