/** A node's settings, from the environment the driver gives it: the same for every peer. */
export interface NodeEnv {
  readonly nodeId: string;
  readonly redisUrl: string;
  readonly host: string;
  readonly port: number;
  readonly interval: number;
  readonly leaseTtl: number;
  /** The retry period of followers: leaseTtl / 3, kettle's, given to every peer that has one. */
  readonly retry: number;
  readonly elections: number;
  /** The cron expression of the cron scenario's job (seconds first); '' elsewhere. */
  readonly cron: string;
  /** BALANCE=1: kettle's `balance: true` (balance scenario). */
  readonly balance: boolean;
  /**
   * TRACE_ELECTIONS=1: every election's runs and leadership changes are printed, not only
   * election 0's (balance scenario; a few dozen elections, never thousands).
   */
  readonly traceElections: boolean;
  /** CRASH_DETECTION=connection|lease: kettle's `crashDetection` (crash section); unset: its default. */
  readonly crashDetection?: 'connection' | 'lease';
}

function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`bench node: ${name} is not set`);
  return value;
}

function crashDetection(): NodeEnv['crashDetection'] {
  const value = process.env.CRASH_DETECTION;
  if (value === undefined || value === '') return undefined;
  if (value === 'connection' || value === 'lease') return value;
  throw new Error(`bench node: CRASH_DETECTION is connection or lease, not ${value}`);
}

function readEnv(): NodeEnv {
  const redisUrl = required('REDIS_URL');
  const url = new URL(redisUrl);
  const leaseTtl = Number(required('LEASE_TTL_MS'));
  return {
    nodeId: required('NODE_ID'),
    redisUrl,
    host: url.hostname,
    port: Number(url.port),
    interval: Number(required('INTERVAL_MS')),
    leaseTtl,
    retry: Math.floor(leaseTtl / 3),
    elections: Number(process.env.ELECTIONS ?? 1),
    cron: process.env.CRON ?? '',
    balance: process.env.BALANCE === '1',
    traceElections: process.env.TRACE_ELECTIONS === '1',
    crashDetection: crashDetection(),
  };
}

/** Read once at load: decorators such as @Interval(env.interval) need it before Nest starts. */
export const env: NodeEnv = readEnv();
