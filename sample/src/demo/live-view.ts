import { emitKeypressEvents } from 'node:readline';
import type { Actions } from './actions.js';
import type { ClusterState, NodeStatus, NodeView } from './cluster-state.js';
import { bold, cyan, dim, green, rangeText, red, seconds, spreadText, yellow } from './format.js';

/** The alternate screen (as top and less use), no cursor, no line wrap: a frame redrawn in place. */
const ENTER = '\x1b[?1049h\x1b[?25l\x1b[?7l';
export const LEAVE = '\x1b[?7h\x1b[?25h\x1b[?1049l';
const REDRAW_MS = 200;
const NEWS_LINES = 7;
const HAND_OVER_LINES = 6;

const clock = (at: number) => new Date(at).toTimeString().slice(0, 8);

/** The live terminal view: a table of the nodes, the hand-overs, the latest news, and the keys. */
export class LiveView {
  private readonly news: string[] = [];
  private finish!: () => void;
  private readonly finished = new Promise<void>((resolve) => (this.finish = resolve));

  constructor(
    private readonly state: ClusterState,
    private readonly actions: Actions,
    private readonly header: string[],
    private readonly leaseMs: number,
    private readonly pauseMs: number,
  ) {
    state.on('message', (text: string, kind: string) => {
      if (kind === 'run') return; // the table shows runs; the news would be nothing else
      this.news.push(`${dim(clock(Date.now()))} ${text}`);
      if (this.news.length > NEWS_LINES) this.news.shift();
    });
  }

  /** Shows the view, calls `start`, and resolves when the user quits (or `quit()` is called). */
  async run(start: () => Promise<void>): Promise<void> {
    const { stdin, stdout } = process;
    const onKey = (_: unknown, key?: { name?: string; ctrl?: boolean }) => this.key(key);
    const redraw = () => this.render();
    stdout.write(ENTER);
    emitKeypressEvents(stdin);
    // Raw: keys arrive one at a time, and Ctrl-C is a key (q's twin), not a signal.
    stdin.setRawMode(true);
    stdin.on('keypress', onKey).resume();
    stdout.on('resize', redraw);
    const timer = setInterval(redraw, REDRAW_MS);
    try {
      await start();
      await this.finished;
    } finally {
      clearInterval(timer);
      stdout.off('resize', redraw);
      stdin.off('keypress', onKey).pause();
      stdin.setRawMode(false);
      stdout.write(LEAVE);
    }
  }

  quit(): void {
    this.finish();
  }

  private key(key?: { name?: string; ctrl?: boolean }): void {
    const name = key?.ctrl ? `^${key.name}` : key?.name;
    if (name === 'k') this.actions.killMaster();
    else if (name === 's') this.actions.stopMaster();
    else if (name === 'p') this.actions.pauseMaster();
    else if (name === 'a')
      this.actions
        .addNode()
        .catch((error: unknown) => this.state.say(`could not add a node: ${String(error)}`));
    else if (name === 'q' || name === '^c') this.quit();
    this.render();
  }

  private render(): void {
    const { state } = this;
    const master = state.master();
    const lastRun = state.runs.at(-1);
    const lines = [
      ...this.header,
      '',
      bold(
        `  ${'NODE'.padEnd(6)}${'PID'.padEnd(9)}${'HTTP (GET)'.padEnd(24)}${'STATUS'.padEnd(10)}` +
          `${'ROLE'.padEnd(16)}${state.balance ? 'LEADS'.padEnd(7) : ''}${'TERM'.padEnd(15)}` +
          `${'RUNS'.padStart(5)}  ${'LAST RUN'.padEnd(12)}SEES MASTER`,
      ),
      ...[...state.nodes.values()].map((node) => this.row(node, node === master)),
      '',
      `  ${this.whoIsMaster()}`,
      lastRun
        ? `  The job last ran on ${lastRun.nodeId}, term ${lastRun.term}, ${seconds(Date.now() - lastRun.at)} ago.`
        : '  The job has not run yet.',
      ...this.balanceLines(),
      '',
      bold('  Hand-overs'),
      ...(state.handOvers.length === 0
        ? [dim('  none yet: press k, s or p')]
        : state.handOvers
            .slice(-HAND_OVER_LINES)
            .map(
              (h) =>
                `  ${dim(clock(h.at))}  ${h.from} → ${bold(h.to)}  ${h.tookMs === undefined ? '?' : seconds(h.tookMs)}` +
                `  term ${h.toTerm}${h.cause ? `  after ${h.cause}` : ''}`,
            )),
      '',
      bold('  News'),
      ...this.news.map((line) => `  ${line}`),
      '',
      `  ${cyan('k')} kill the master (SIGKILL)  ${cyan('s')} stop it (SIGTERM)  ` +
        `${cyan('p')} pause it ${seconds(this.pauseMs)} (SIGSTOP)  ${cyan('a')} add a node  ${cyan('q')} quit`,
    ];
    process.stdout.write(`\x1b[H${lines.map((line) => `${line}\x1b[K`).join('\n')}\x1b[J`);
  }

  /** With --elections: how the balanced elections are spread now, and the last settled spread. */
  private balanceLines(): string[] {
    const { balance, spreads } = this.state;
    const now = this.state.spreadNow();
    if (!balance || !now) return [];
    const nodes = Object.keys(now.leading).length;
    const settled = spreads.at(-1);
    return [
      '',
      `  ${bold(rangeText(balance.elections))} (balance: true), led now by the nodes up: ` +
        `${spreadText(now.leading) || 'none'}  (share ${nodes > 0 ? now.share : '-'})` +
        (now.whole ? '' : yellow('  changing hands')),
      dim(
        settled
          ? `  last settled ${clock(settled.at)}: ${spreadText(settled.leading)}; ${this.state.rebalanced} handed over by balancing so far`
          : '  not settled yet',
      ),
    ];
  }

  /** The master, or why there is none at this moment. */
  private whoIsMaster(): string {
    const master = this.state.master();
    const lease = seconds(this.leaseMs);
    if (master?.status === 'paused')
      return yellow(
        `${master.id} is master but frozen: it cannot renew its lease, which runs out within ${lease}; then a follower takes over.`,
      );
    if (master) return `${bold(green(master.id))} is master (term ${master.term}).`;
    const last = this.state.actions.at(-1);
    if (last?.kind === 'kill' && this.state.leaderships.at(-1)?.term === last.term)
      return yellow(
        `Nobody is master: ${last.nodeId} was killed, and its lease stays in the store until it runs out (within ${lease}).`,
      );
    return 'Nobody is master right now.';
  }

  private row(node: NodeView, isMaster: boolean): string {
    const gone = GONE.includes(node.status);
    const status = node.status === 'exited' ? `exit ${node.exit ?? ''}` : node.status;
    const role = roleOf(node, isMaster);
    const cells = [
      node.id.padEnd(6),
      (node.pid === process.pid ? '-' : String(node.pid)).padEnd(9),
      (node.port ? `127.0.0.1:${node.port}/kettle` : '').padEnd(24),
      paintStatus(node.status)(status.padEnd(10)),
      role === 'MASTER' ? bold(green(role.padEnd(16))) : role.padEnd(16),
      this.state.balance ? (gone ? '-' : String(node.leading?.length ?? 0)).padEnd(7) : '',
      (node.isMaster && node.term ? String(node.term) : '-').padEnd(15),
      `${String(node.runs).padStart(5)}  `,
      (node.lastRunAt ? `${seconds(Date.now() - node.lastRunAt)} ago` : '-').padEnd(12),
      gone ? '' : (node.seesMaster ?? '…'),
    ];
    return `  ${cells.join('')}`;
  }
}

const GONE: readonly NodeStatus[] = ['stopped', 'killed', 'exited'];

/** What a node is in the election, as far as the demo can tell from what it reported. */
function roleOf(node: NodeView, isTheMaster: boolean): string {
  if (GONE.includes(node.status) || node.status === 'starting') return '-';
  // Frozen, it still believes it leads: it cannot look at its clock until it wakes.
  if (node.isMaster && node.status === 'paused') return 'master, frozen';
  if (isTheMaster) return 'MASTER';
  // Believes it leads though a newer master was elected: it has not yet reported stepping down.
  if (node.isMaster) return 'master?';
  return 'follower';
}

function paintStatus(status: NodeStatus): (text: string) => string {
  if (status === 'stopped') return dim;
  if (status === 'killed' || status === 'exited') return red;
  if (status === 'paused') return yellow;
  return (text) => text;
}
