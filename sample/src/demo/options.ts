import { CronTime } from 'cron';

/** What `npm run demo -- [flags]` can change; everything has a default that shows kettle well. */
export interface DemoOptions {
  /** Run the fixed scenario and print a plain log and a summary instead of the live view. */
  script: boolean;
  help: boolean;
  /** Nodes started at the beginning. */
  nodes: number;
  /** ms between runs of the master's job; with `cron`, the shortest gap between two of its slots. */
  intervalMs: number;
  /** Runs the job on this cron schedule (seconds first) instead of every intervalMs. */
  cron?: string;
  /** ms a lease lasts unrenewed: how long a killed master blocks the others. */
  leaseMs: number;
  /** How long `p` freezes the master: longer than the lease, so that another node takes over. */
  pauseMs: number;
  /** Where to look for Redis first. */
  redisUrl: string;
  /** Balanced elections (job-1 … job-N) each node also joins, whose leadership is spread over them. */
  elections?: number;
}

/** Every node reports the names it leads at each change: more would be a flood of long lines. */
const MAX_ELECTIONS = 200;

export const USAGE = `npm run demo -- [--script] [--nodes N] [--interval-ms MS | --cron EXPR] [--lease-ms MS]
                       [--elections N]

A cluster of nodes of the sample app electing a master for its report job: @OnMaster('report'),
every interval, or with --cron, kettle.schedule('report-on-cron', { cron }), once per slot.
Uses the Redis at REDIS_URL (default redis://127.0.0.1:6379) if it answers, else a private
redis-server on a free port if one is on PATH, else all nodes in this process on the memory store.

  --script          run a fixed scenario (kill, graceful stop, pause the master), print a log and a
                    summary, and exit 0 if every check passed (the default when stdout or stdin is
                    not a terminal)
  --nodes N         nodes to start with (default 3)
  --interval-ms MS  ms between runs of the job (default 1000)
  --cron EXPR       run the job on a cron schedule instead, seconds first, e.g. --cron '*/2 * * * * *'
                    (every 2 s); each slot runs once, on the master, and a slot's run shows its time
  --lease-ms MS     lease of the master (default 3000); a pause lasts twice as long
  --elections N     each node also joins N elections, job-1 … job-N, with balance: true: their
                    leadership is spread over the nodes that are up (about N / nodes each), and the
                    view and the summary show how many each node leads, through every kill, stop and
                    pause (1 to ${MAX_ELECTIONS}; default none)

Keys in the live view: k kill the master (SIGKILL), s stop it (SIGTERM), p pause it (SIGSTOP)
for twice the lease, a add a node, q quit.`;

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv): DemoOptions {
  const options: DemoOptions = {
    script: false,
    help: false,
    nodes: 3,
    intervalMs: 1000,
    leaseMs: 3000,
    pauseMs: 0,
    redisUrl: env.REDIS_URL || 'redis://127.0.0.1:6379',
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const number = (min: number, max: number): number => {
      const value = Number(argv[++i]);
      if (!Number.isInteger(value) || value < min || value > max)
        throw new Error(
          `${flag} needs a whole number from ${min} to ${max}: ${argv[i] ?? 'none given'}\n\n${USAGE}`,
        );
      return value;
    };
    if (flag === '--script') options.script = true;
    else if (flag === '--help' || flag === '-h') options.help = true;
    else if (flag === '--nodes') options.nodes = number(1, 26);
    else if (flag === '--interval-ms') options.intervalMs = number(1000, 60_000);
    else if (flag === '--lease-ms') options.leaseMs = number(300, 60_000);
    else if (flag === '--cron') options.cron = cronExpression(flag, argv[++i]);
    else if (flag === '--elections') options.elections = number(1, MAX_ELECTIONS);
    else throw new Error(`unknown argument ${flag}\n\n${USAGE}`);
  }
  if (options.cron) options.intervalMs = shortestGapMs(options.cron);
  options.pauseMs = 2 * options.leaseMs;
  return options;
}

function cronExpression(flag: string, value: string | undefined): string {
  try {
    if (!value) throw new Error('none given');
    new CronTime(value);
    return value;
  } catch (error) {
    throw new Error(
      `${flag} needs a cron expression, e.g. '*/2 * * * * *': ${value} (${(error as Error).message})\n\n${USAGE}`,
    );
  }
}

/** The shortest gap between the expression's next few slots: the demo's checks and waits use it. */
function shortestGapMs(cron: string): number {
  const slots = new CronTime(cron).sendAt(10).map((date) => date.toMillis());
  return Math.min(...slots.slice(1).map((slot, i) => slot - slots[i]));
}
