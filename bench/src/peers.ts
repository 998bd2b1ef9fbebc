export type PeerId =
  | 'kettle'
  | 'redlock'
  | 'redlock-hold'
  | 'bullmq'
  | 'redis-leader'
  | 'ts-safe-redis-leader'
  | CronPeerId
  | BalancePeerId
  | CrashPeerId;

/** The crash section's kettle set-ups: crashDetection 'connection', and 'lease' as the baseline. */
export type CrashPeerId = 'kettle-connection' | 'kettle-lease';

/** The balance scenario's nodes: kettle with `balance: true`, and without it as the baseline. */
export type BalancePeerId = 'kettle-balance' | 'kettle-unbalanced';

/** The peers of the cron scenario, each running one job on a cron schedule. */
export type CronPeerId = 'kettle-cron' | 'kettle-guard' | 'redlock-cron' | 'bullmq-cron';

export interface Peer {
  id: PeerId;
  /** As the report names it. */
  label: string;
  /** The node program in dist/nodes/. */
  script: string;
  env?: Record<string, string>;
  /** It elects a leader and says so; the others only run jobs. */
  leader: boolean;
  /** How its node drives the job, for the report. */
  how: string;
  /**
   * A fault waits until every live node has been up for `CrashConfig.settleMs`: kettle with
   * crashDetection 'connection' takes over only a holder it has seen alive at a poll.
   */
  settles?: boolean;
}

export const PEERS: readonly Peer[] = [
  {
    id: 'kettle',
    label: 'nestjs-kettle',
    script: 'kettle.node.js',
    leader: true,
    how: '`@OnMaster` job; `KettleModule.forRoot({ interval, leaseTtl })`',
  },
  {
    id: 'redlock',
    label: '@nestjs/schedule + redlock',
    script: 'redlock.node.js',
    env: { REDLOCK_MODE: 'using' },
    leader: false,
    how: '`@Interval` on every node; `redlock.using([key], leaseTtl, job)` with `retryCount: 0` (the README recipe: lock around the job, released after it)',
  },
  {
    id: 'redlock-hold',
    label: '@nestjs/schedule + redlock (held)',
    script: 'redlock.node.js',
    env: { REDLOCK_MODE: 'hold' },
    leader: false,
    how: '`@Interval` on every node; `redlock.acquire([key], 0.9 × interval)`, never released, so later ticks in the same interval find it taken',
  },
  {
    id: 'bullmq',
    label: 'BullMQ job scheduler',
    script: 'bullmq.node.js',
    leader: false,
    how: '`@nestjs/bullmq`: every node upserts `upsertJobScheduler(id, { every: interval })` at boot and runs one `WorkerHost` (`lockDuration` = leaseTtl, `stalledInterval` = retry period)',
  },
  {
    id: 'redis-leader',
    label: 'redis-leader',
    script: 'redis-leader.node.js',
    leader: true,
    how: '`new Leader(redis, { key, ttl: leaseTtl, wait: retry })`, `elected`/`revoked` events; an `@Interval` runs the job where elected',
  },
  {
    id: 'ts-safe-redis-leader',
    label: 'ts-safe-redis-leader',
    script: 'safe-leader.node.js',
    leader: true,
    how: '`new SafeRedisLeader(redis, leaseTtl, retry, key)`, `elected`/`demoted` events; an `@Interval` runs the job where elected',
  },
];

export const CRON_PEERS: readonly Peer[] = [
  {
    id: 'kettle-cron',
    label: 'nestjs-kettle `cron`',
    script: 'kettle-cron.node.js',
    leader: true,
    how: "`@OnMaster(name, { cron, catchUp: 'latest' })`; the slot is `scheduledAt`",
  },
  {
    id: 'kettle-guard',
    label: 'nestjs-kettle guarding `@Cron`',
    script: 'kettle-guard.node.js',
    leader: true,
    how: '`@Cron(cron)` + `@OnMaster(name)`: fires on every node, the guard claims the slot; the slot is the firing time rounded to the second',
  },
  {
    id: 'redlock-cron',
    label: '@nestjs/schedule + redlock',
    script: 'redlock-cron.node.js',
    leader: false,
    how: '`@Cron(cron)` on every node; `redlock.using([key], leaseTtl, job)` with `retryCount: 0`; the slot is the firing time rounded to the second',
  },
  {
    id: 'bullmq-cron',
    label: 'BullMQ job scheduler',
    script: 'bullmq-cron.node.js',
    leader: false,
    how: "every node upserts `upsertJobScheduler(id, { pattern: cron })` and runs one `WorkerHost` (`lockDuration` = leaseTtl); the slot is the job's scheduled time",
  },
];

/** Only kettle balances: the other packages have no notion of it. */
export const BALANCE_PEERS: readonly Peer[] = [
  {
    id: 'kettle-balance',
    label: 'nestjs-kettle `balance: true`',
    script: 'kettle.node.js',
    env: { BALANCE: '1', TRACE_ELECTIONS: '1' },
    leader: true,
    how: '`KettleModule.forRoot({ interval, leaseTtl, balance: true })`; one `@OnMaster` job, the other elections `join()`ed',
  },
  {
    id: 'kettle-unbalanced',
    label: 'nestjs-kettle, balance off',
    script: 'kettle.node.js',
    env: { TRACE_ELECTIONS: '1' },
    leader: true,
    how: 'the same without `balance`: whoever wins a lease keeps it',
  },
];

/** kettle in the crash section: the two ways it notices a crashed master. */
export const CRASH_PEERS: readonly Peer[] = [
  {
    id: 'kettle-connection',
    label: "nestjs-kettle `crashDetection: 'connection'`",
    script: 'kettle.node.js',
    env: { CRASH_DETECTION: 'connection' },
    leader: true,
    how: "`KettleModule.forRoot({ interval, leaseTtl, crashDetection: 'connection' })`; followers poll the holder's connection (`PUBSUB NUMSUB`) every leaseTtl / 20",
    settles: true,
  },
  {
    id: 'kettle-lease',
    label: "nestjs-kettle `crashDetection: 'lease'`",
    script: 'kettle.node.js',
    env: { CRASH_DETECTION: 'lease' },
    leader: true,
    how: "the same with `crashDetection: 'lease'` (the default): a crashed master is followed once its lease runs out",
  },
];

export function peer(id: PeerId): Peer {
  const found = [...PEERS, ...CRON_PEERS, ...BALANCE_PEERS, ...CRASH_PEERS].find(
    (candidate) => candidate.id === id,
  );
  if (!found) throw new Error(`unknown peer ${id}`);
  return found;
}
