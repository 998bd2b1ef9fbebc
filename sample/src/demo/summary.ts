import { balancedElectionNames } from '../balanced-elections.js';
import type { Backend } from './backend.js';
import { allProblems } from './checks.js';
import type { ClusterState, HandOver, RunRecord, Spread } from './cluster-state.js';
import { rangeText, redactUrl, seconds, spreadText } from './format.js';

/** What a run of the demo showed; printed as text and as one JSON line for programs (the test). */
export interface Summary {
  ok: boolean;
  store: Backend['kind'];
  redisUrl?: string;
  keyPrefix: string;
  nodes: Array<{ id: string; pid: number; answeredHttp: boolean }>;
  handOvers: HandOver[];
  pauses: Array<{
    nodeId: string;
    term: number;
    steppedDown: boolean;
    reason?: string;
    /** Killed before it could step down: the key k while it was frozen. */
    killed: boolean;
  }>;
  runs: RunRecord[];
  /**
   * With --elections: how many balanced elections, their spread each time it settled, and how
   * many balancing handed over in all.
   */
  balance?: { elections: number; spreads: Spread[]; rebalanced: number };
  /** Broken invariants (see checks.ts); empty when every check held. */
  problems: string[];
  /** Processes the demo started: nodes, and the private redis-server. */
  startedPids: number[];
  /** Those still running after the demo cleaned up: should be none. */
  leftover: number[];
  error?: string;
}

export function buildSummary(input: {
  state: ClusterState;
  backend: Backend;
  keyPrefix: string;
  intervalMs: number;
  startedPids: number[];
  leftover: number[];
  error?: string;
}): Summary {
  const { state, backend, leftover, error } = input;
  const problems = allProblems(state, input.intervalMs);
  return {
    ok: !error && problems.length === 0 && leftover.length === 0,
    store: backend.kind,
    redisUrl: backend.url && redactUrl(backend.url),
    keyPrefix: input.keyPrefix,
    nodes: [...state.nodes.values()].map(({ id, pid, answeredHttp }) => ({
      id,
      pid,
      answeredHttp,
    })),
    handOvers: state.handOvers,
    pauses: state.actions
      .filter((a) => a.kind === 'pause')
      .map((a) => ({
        nodeId: a.nodeId,
        term: a.term,
        steppedDown: a.steppedDown !== undefined,
        reason: a.steppedDown?.reason,
        killed: state.actions.some(
          (k) => k.kind === 'kill' && k.nodeId === a.nodeId && k.at >= a.at,
        ),
      })),
    runs: state.runs,
    ...(state.balance && {
      balance: {
        elections: state.balance.elections.length,
        spreads: state.spreads,
        rebalanced: state.rebalanced,
      },
    }),
    problems,
    startedPids: input.startedPids,
    leftover,
    error,
  };
}

const STORE_NAMES: Record<Backend['kind'], string> = {
  redis: 'Redis',
  'private-redis': "the demo's own redis-server",
  memory: 'the memory store, inside the demo',
};

/** The summary for people: one labelled block per thing the demo showed. */
export function summaryText(summary: Summary): string {
  const { nodes, handOvers, pauses, runs, balance, problems, startedPids, leftover } = summary;
  // A label on the first line of each block only.
  const block = (label: string, lines: string[]) =>
    lines.map((line, i) => `  ${(i === 0 ? label : '').padEnd(14)}${line}`);
  const runners = [...new Set(runs.map((r) => r.nodeId))].join(', ');
  const pidOf = (pid: number) => (pid === process.pid ? '' : ` (pid ${pid})`);
  return [
    'summary',
    ...block('leases in', [
      `${STORE_NAMES[summary.store]}${summary.redisUrl ? ` at ${summary.redisUrl}` : ''}`,
    ]),
    ...block('nodes', [nodes.map((n) => `${n.id}${pidOf(n.pid)}`).join(', ')]),
    ...block('hand-overs', [
      String(handOvers.length),
      ...handOvers.map(
        (h) =>
          `${h.from} → ${h.to} in ${h.tookMs === undefined ? '?' : seconds(h.tookMs)}, ` +
          `after ${h.cause ?? 'an unknown cause'}`,
      ),
    ]),
    ...block(
      'pauses',
      pauses.length === 0
        ? ['none']
        : pauses.map(
            (p) =>
              `${p.nodeId}, master of term ${p.term}: ` +
              (p.steppedDown
                ? `stepped down (${p.reason})`
                : p.killed
                  ? 'killed before it stepped down'
                  : 'did NOT step down'),
          ),
    ),
    ...block('runs', [`${runs.length}, by ${runners || 'nobody'}`]),
    ...(balance ? block('balanced', balanceLines(balance)) : []),
    ...block(
      'checks',
      problems.length === 0
        ? [
            'no master ran after a newer one was elected; one run per interval and per slot;',
            'terms rose with every leadership; every paused master stepped down;',
            'another node took over after every kill, stop and pause',
            ...(balance
              ? ['every settled spread of the balanced elections was within one of the share']
              : []),
          ]
        : [`${problems.length} FAILED:`, ...problems],
    ),
    ...block('left running', [
      leftover.length > 0
        ? `pids ${leftover.join(', ')}`
        : startedPids.length > 0
          ? `nothing: the ${startedPids.length} processes the demo started have exited`
          : 'nothing: the nodes ran inside the demo',
    ]),
    ...(summary.error ? block('error', [summary.error]) : []),
    `result: ${summary.ok ? 'ok' : summary.error?.startsWith('interrupted') ? 'interrupted' : 'FAILED'}`,
  ].join('\n');
}

/** The spread of the balanced elections each time it settled, in order. */
function balanceLines({
  elections,
  spreads,
  rebalanced,
}: NonNullable<Summary['balance']>): string[] {
  const names = rangeText(balancedElectionNames(elections));
  return [
    `${names}, spread over the nodes that were up each time it settled (share: ⌈${elections} / nodes⌉)`,
    ...(spreads.length === 0
      ? ['never settled']
      : spreads.map(
          ({ leading, share, rebalanced }) =>
            `${spreadText(leading)}  (share ${share}; ${rebalanced} handed over by balancing before)`,
        )),
    `${rebalanced} handed over by balancing (reason 'rebalanced')`,
  ];
}
