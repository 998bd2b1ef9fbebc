/** The user-facing errors and logs of the module and its elections (the stores keep their own). */

/**
 * `where`: whose option it is, as the start of the sentence, e.g. `@OnMaster("report") on
 * Reports.daily: `; empty for the module's. `secret`: the value may be a password (an unknown
 * option): say its type, never the string.
 */
export const invalidOption = (
  option: string,
  value: unknown,
  expected: string,
  { where = '', secret = false }: { where?: string; secret?: boolean } = {},
) =>
  `Kettle: ${where}invalid option "${option}": ${secret && typeof value === 'string' ? 'a string' : describeValue(value)}; expected ${expected}.`;

/** `suggestion`: the known option it most likely misspells. The value may be a password. */
export const unknownOption = (
  option: string,
  value: unknown,
  known: readonly string[],
  suggestion: string | undefined,
  where = '',
) =>
  suggestion === undefined
    ? invalidOption(option, value, `one of ${known.join(', ')} (unknown option)`, {
        where,
        secret: true,
      })
    : `Kettle: ${where}unknown option "${option}"; did you mean "${suggestion}"? (the options are ${known.join(', ')})`;

/** `value` (`ms` once read) is under the floor of `interval`; `mayBeSeconds`: a whole number without a unit. */
export const intervalTooShort = (
  option: string,
  value: unknown,
  ms: number,
  floorMs: number,
  mayBeSeconds: boolean,
  where = '',
) => {
  // Under 100, a whole number reads as seconds (60 for a minute); 500 may as well be meant in ms.
  const seconds = mayBeSeconds && ms >= 1 && ms < Math.min(100, floorMs);
  return (
    `Kettle: ${where}invalid option "${option}": ${describeValue(value)} is ${ms} ms; expected at least ${floorMs} ms` +
    `${seconds ? ` (did you mean '${ms}s'?)` : ''}, or "allowShortInterval": true to run the jobs this often.`
  );
};

export const clashingOptions = (name: string, option: string, a: unknown, b: unknown) =>
  `Kettle: election "${name}" is declared with clashing "${option}" values ${describeValue(a)} and ${describeValue(b)}; ` +
  `give every @OnMaster('${name}') the same ${option}, or set it on one of them only.`;

export const invalidRun = (name: string) =>
  `Kettle: invalid option "run" of join('${name}'): expected a function.`;

export const shuttingDown = (name: string) =>
  `Kettle: cannot join "${name}": the application is shutting down.`;

/** `decorator`: OnMaster, OnElected or OnRevoked. */
export const invalidElectionName = (name: unknown, method: string, decorator = 'OnMaster') =>
  `Kettle: invalid election name ${JSON.stringify(name)} in @${decorator}() on ${method}; expected a non-empty string.`;

export const invalidDecoratorOptions = (name: string, method: string) =>
  `Kettle: invalid options in @OnMaster('${name}') on ${method}; expected an object.`;

export const stepFailed = (name: string, reason: string) => `Election "${name}": ${reason}`;

export const alreadyJoined = (name: string) =>
  `Kettle: this node has already joined election "${name}"; call leave('${name}') first.`;

export const notJoined = (name: string) => `Kettle: this node has not joined election "${name}".`;

export const nonStaticProvider = (className: string, method: string, decorator = 'OnMaster') =>
  `Cannot use @${decorator}() on "${className}.${method}" because "${className}" is request-scoped or depends on a request-scoped provider; it is skipped.`;

export const runFailed = (name: string) => `Election "${name}": the master job failed`;
export const storeError = (name: string, action: string, reason: string) =>
  `Election "${name}": ${storeFailure(action, reason)}`;
export const storeFailure = (action: string, reason: string) =>
  `${action} failed (${reason}); retrying`;
export const tookLeadership = (name: string, term: number) =>
  `Election "${name}": this node is master (term ${term})`;
export const lostLeadership = (name: string, term: number, reason: string) =>
  `Election "${name}": this node is no longer master (term ${term}, ${reason})`;
export const handlerFailed = (name: string, decorator: string, method: string, reason: string) =>
  `Election "${name}": the @${decorator} handler failed (${method}): ${reason}`;
export const electedHandlersSlow = (name: string, ms: number) =>
  `Election "${name}": the @OnElected handlers did not finish within ${ms} ms; the master jobs start anyway`;
export const handlersTimedOut = (name: string, ms: number) =>
  `Election "${name}": an @OnElected or @OnRevoked handler did not finish within the shutdownTimeout (${ms} ms)`;
export const runSkipped = (name: string) =>
  `Election "${name}": skipped a tick because the previous run is still going`;
export const notAMethod = (name: string, key: string) =>
  `Kettle: @OnMaster('${name}') is on ${key}, which is not a method (a getter or setter?); put it on a method.`;
export const guardedRunFailed = (name: string, method: string, reason: string) =>
  `Election "${name}": the scheduled master method failed (${method}): ${reason}`;
export const scheduleWithoutModule = (method: string) =>
  `@OnMaster() on ${method} guards a @Cron, @Interval or @Timeout, but ScheduleModule is not imported: nothing fires it. Import ScheduleModule.forRoot().`;
export const scheduleOption = (name: string, method: string, option: string) =>
  `Kettle: @OnMaster('${name}') on ${method} has @Cron, @Interval or @Timeout: the schedule decides when it runs, so "${option}" does not apply; remove it (leaseTtl may stay).`;
/** `method`: the guarded method, or undefined for the election's own cron schedule. */
export const scheduleMismatch = (
  name: string,
  method: string | undefined,
  mine: string,
  theirs: string,
) =>
  `Election "${name}"${method ? ` (${method})` : ''}: this node reads ${mine}, but the last slot was claimed by a node reading ${theirs}; the nodes compute different slots. Give every node the same timeZone (and expression).`;
/** `first`, `second`: where each method is, e.g. `Jobs.sweep (in ReportsModule)`. */
export const duplicateGuard = (name: string, first: string, second: string) =>
  `Kettle: @OnMaster('${name}') guards two scheduled methods of one name, ${first} and ${second}: their firings would share one slot key and silence each other. Give them distinct election names, e.g. @OnMaster('${name}-reports').`;
/** One class provided in two modules: two instances, one decorator, so one election name. */
export const guardedProviderTwice = (name: string, method: string, first: string, second: string) =>
  `Kettle: @OnMaster('${name}') on ${method} guards two instances: its class is provided in two modules, ${first} and ${second}, and their firings would share one slot key and silence each other. Provide it in one module and export it from there.`;
export const cronNeedsClaimSlot = (where: string, store: string) =>
  `Kettle: ${where}invalid option "cron": the store (${store}) has no claimSlot method, which a cron schedule needs to run each slot once; add claimSlot to the store, or use "interval".`;
export const balanceNeedsHeartbeat = (where: string, store: string) =>
  `Kettle: ${where}invalid option "balance": true: the store (${store}) has no heartbeat method, which balancing needs to know the live nodes; add heartbeat to the store, or set "balance" to false.`;
export const rebalancing = (leading: number, share: number, nodes: number, handing: string[]) =>
  `Kettle: this node leads ${leading} balanced elections, over its share of ${share} among ${nodes} nodes; handing ${handing.length} over: ${handing.join(', ')}`;
export const firingsNotDeduplicated = (store: string) =>
  `Kettle: the store (${store}) has no claimSlot method: a @Cron, @Interval or @Timeout guarded by @OnMaster runs on the master at each of its firings, and firings are not deduplicated across a hand-over.`;
/**
 * `where`: e.g. `@OnMaster("report") on Reports.daily: `, or empty for the module. `remove`: the
 * one to remove, when it is known.
 */
export const intervalAndCron = (
  where: string,
  interval: unknown,
  cron: unknown,
  remove?: 'interval' | 'cron',
) =>
  `Kettle: ${where}invalid options "interval" (${describeValue(interval)}) and "cron" (${describeValue(cron)}): set one of them, not both; ${remove ? `remove "${remove}"` : 'cron decides when the jobs run'}.`;
export const onlyWithCron = (option: string, value: unknown, where = '') =>
  invalidOption(option, value, 'no value without "cron" (it applies to a cron schedule only)', {
    where,
  });
export const slotSkippedLate = (name: string, slot: string, lateMs: number) =>
  `Election "${name}": the slot of ${slot} fell due ${lateMs} ms ago, while nobody could run it; skipped (catchUp 'none', or no earlier slot ran)`;
export const slotSuperseded = (name: string, slot: string) =>
  `Election "${name}": the slot of ${slot} was claimed on this node's clock, but a later one is due on the store's; skipped for the later one`;
/** `offsetMs`: this node's clock minus the store's. */
export const clockOff = (name: string, offsetMs: number, allowanceMs: number) =>
  `Election "${name}": this node's clock is ${Math.abs(offsetMs)} ms ${offsetMs > 0 ? 'ahead of' : 'behind'} the store's (the allowance is ${allowanceMs} ms); cron slots are read on the store's clock, guarded firings on this node's. Check its time sync (NTP)`;
/** `after`: 'shutdown' or 'resign()'. */
export const drainTimedOut = (name: string, ms: number, after: string) =>
  `Election "${name}": a run did not finish within ${ms} ms of ${after}; releasing the lease anyway`;
export const listenerFailed = (name: string, reason: string) =>
  `Election "${name}": a leadership listener failed: ${reason}`;
export const loggerFailed = (level: string, message: string, reason: string) =>
  `[Kettle] the logger's ${level}() threw (${reason}); the line was: ${message}`;
export const redisConnectionError = (where: string, reason: string) =>
  `Redis (${where}): ${redactUrl(reason)}`;
/** What a user's retryStrategy did instead of giving a delay: "returned null", "threw (…)". */
export const retryStrategyGaveUp = (outcome: string) =>
  `the retryStrategy option ${outcome}; kettle reconnects this connection on its own backoff (50 to 500 ms), since the elections need it`;
export const connectionUnanswered = () =>
  `a command got no answer in time; opening a new connection (the server behind the address may have moved), nothing is sent again`;
export const signalOnCluster =
  'Redis Cluster: a node counts only the subscribers connected to it, so a silent channel there does not mean a closed connection';
export const signalNotSeen =
  "Redis does not count this node's own subscription (a proxy in between that does not pass subscriptions on?)";
export const signalDown =
  "this node's subscriber connection is down: another node may take its leases over, so no run starts until it is back";
export const crashDetectionOn = (pollMs: number) =>
  `Kettle: crash detection by connection: a master whose connections close (a crash, a kill) is replaced within about ${pollMs} ms; a frozen or cut-off one after its lease.`;
export const crashDetectionFallsBack = (reason: string) =>
  `Kettle: crash detection falls back to the lease (a crashed master is replaced once its lease runs out): ${reason}`;
export const crashDetectionUnsupported = (store: string) =>
  `the store (${store}) has no connection signal`;
export const holderConnectionClosed = (holder: string, count: number) =>
  `Kettle: the connection of node ${holder} closed; taking over ${count === 1 ? 'its election' : `its ${count} elections`}`;
export const crashPollFailed = (error: string) =>
  `Kettle: crash detection could not ask after the holders, trying again at the next poll: ${error}`;
export const evictingPolicy = (policy: string) =>
  `Redis maxmemory-policy is ${policy}: when memory runs short, Redis may evict a lease key, and another node may then take the election while its master still believes it leads, until that master's next renewal. Set maxmemory-policy to noeviction on the Redis that kettle uses.`;

export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(redactUrl(value));
  if (typeof value === 'number' || typeof value === 'boolean' || value == null)
    return String(value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  return `an object`;
}
/** `known`: the elections this node has joined. */
export const testingNotJoined = (name: string, known: string[]) =>
  `Kettle testing: this node has no election "${name}" (${known.length ? `it has ${known.map((n) => JSON.stringify(n)).join(', ')}` : 'it has joined none'}). Elections are joined at bootstrap: call ` +
  `moduleRef.init() (or app.init()) first, and provide a class with @OnMaster, @OnElected or ` +
  `@OnRevoked('${name}'), or call KettleService.join('${name}').`;
export const testingTimedOut = (name: string, change: string, ms: number) =>
  `Kettle testing: election "${name}" did not ${change} within ${ms} ms.`;

export const invalidFence = (value: unknown) =>
  `Kettle: fencedSet() expects a term (a number) or the MasterContext; got ${describeValue(value)}.`;

export const storeRecovered = (name: string) => `Election "${name}": the store answers again`;
export const storeAnswersAgain = 'the store answers again';
export const sameForOtherElections = (others: number, what: string) =>
  `${others.toLocaleString('en-US')} other election${others === 1 ? '' : 's'} of this node in the same turn: ${what}`;

/** What each reason of a KettleStoreError says (store/store-error.ts). */
const STORE_FAILURES: Record<string, string> = {
  auth: 'Redis refused the credentials; check the password (and the ACL user)',
  permission: 'the Redis ACL user lacks a right kettle needs',
  dns: 'the Redis host name does not resolve',
  tls: 'the TLS handshake with Redis failed; check the certificate and its CA',
  'not-connected': 'Redis is not connected',
  timeout: 'the store did not answer in time',
  failed: 'the store failed',
};
/** `action`: e.g. `getMaster("billing")`; `detail`: the driver's own words, when they help. */
export const storeReadFailed = (action: string, reason: string, detail?: string) =>
  `Kettle: ${action}: ${STORE_FAILURES[reason] ?? reason}${detail ? ` (${redactUrlsIn(detail)})` : ''}`;
/** Logged at ERROR once per cause: a password, a right, a host name or a certificate. */
export const storeMisconfigured = (where: string, reason: string, detail: string) =>
  `Redis (${where}): ${STORE_FAILURES[reason] ?? reason}: ${redactUrlsIn(detail)}; kettle keeps retrying, but no election can be won until the configuration is fixed`;
/** `store`: where the leases live, as the start line names it (describeStore). */
export const failFastGaveUp = (store: string, ms: number) =>
  `failFast: ${store} could not be reached within ${ms} ms`;
/** A cause of the configuration, told at once: no wait would help. */
export const failFastRefused = (store: string) => `failFast: ${store} cannot be used`;
/** The one line at start: where the leases live, and which elections this node contends for. */
export const starting = (nodeId: string, store: string, keyPrefix: string, names: string[]) =>
  `node "${nodeId}" starts on ${store}, key prefix "${keyPrefix}", elections: ${names.length ? names.map((n) => JSON.stringify(n)).join(', ') : 'none yet'}`;
export const unknownElection = (name: string, known: string[]) =>
  `Kettle: this node has no election ${JSON.stringify(name)}; ${known.length ? `it knows ${known.map((n) => JSON.stringify(n)).join(', ')}` : 'it has joined none'}. Check the spelling, or join it first.`;
export const duplicateNodeId = (nodeId: string) =>
  `another process runs with the same nodeId "${nodeId}" on this store: getMaster(), the health check and the logs cannot tell the two apart. Give every replica a distinct nodeId.`;

/**
 * A URL fit for errors and logs: the password is replaced, whatever characters it holds (the user
 * info runs from `://` to the last `@` before the path).
 */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z][\w+.-]*:\/\/)(.*)@/i, (_, scheme: string, userInfo: string) => {
    const colon = userInfo.indexOf(':');
    return colon < 0 ? `${scheme}${userInfo}@` : `${scheme}${userInfo.slice(0, colon)}:***@`;
  });
}
export const runObserverFailed = (name: string, reason: string) =>
  `Election "${name}": a run observer failed: ${reason}`;
export const invalidRunObserver = (value: unknown) =>
  `Kettle: onRun() expects a function (the run observer); got ${describeValue(value)}.`;
export const metricsRegisteredTwice = (name: string) =>
  `Kettle: kettleCollector(): the registry already has a metric "${name}": call the remover the first kettleCollector() returned, or give this one another prefix.`;

/** `text` with the password of every URL in it replaced: a driver's message may quote one. */
export function redactUrlsIn(text: string): string {
  return redactUrl(text).replace(/[a-z][\w+.-]*:\/\/[^\s@/]*@/gi, (found) => redactUrl(found));
}
