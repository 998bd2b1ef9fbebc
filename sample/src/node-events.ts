import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { KettleService, type StepDownReason } from 'nestjs-kettle';
import { type Observable, Subject } from 'rxjs';
import { BalancedElections } from './balanced-elections.js';
import { REPORT_CRON, reportElection } from './report-schedule.js';

/**
 * One thing (`ev`) node `node` did; `t` is this machine's wall clock (ms), so that the nodes of
 * one host compare, and a run's time compares with its slot.
 */
export type NodeEvent =
  | { ev: 'ready'; node: string; t: number; pid: number; port: number }
  /** `slot`: the run's scheduledAt (ms), the same whichever node runs it. */
  | { ev: 'run'; node: string; t: number; term: number; slot: number }
  | {
      ev: 'leadership';
      node: string;
      t: number;
      isMaster: boolean;
      term: number;
      reason?: StepDownReason;
    }
  /**
   * The balanced elections (BALANCED_ELECTIONS) it leads now, told at each change of its role in
   * one of them; `reason` is that change's when it was a step-down.
   */
  | { ev: 'leading'; node: string; t: number; elections: string[]; reason?: StepDownReason };

/**
 * What this node does for its report job, as a stream: each run and each change of its role in the
 * job's election, and what it leads of the balanced elections (the app's other elections are left
 * out). The demo (`npm run demo`) follows its nodes through it.
 */
@Injectable()
export class NodeEvents implements OnModuleInit {
  private readonly subject = new Subject<NodeEvent>();
  readonly events$: Observable<NodeEvent> = this.subject.asObservable();
  /** The election followed: the report job's in use. */
  readonly election: string;
  private readonly balanced: ReadonlySet<string>;

  constructor(
    private readonly kettle: KettleService,
    @Inject(REPORT_CRON) cron: string | undefined,
    balancedElections: BalancedElections,
  ) {
    this.election = reportElection(cron);
    this.balanced = new Set(balancedElections.names);
  }

  onModuleInit(): void {
    // Elections start at bootstrap, after every onModuleInit: no change is missed. The stream ends
    // when kettle shuts down, after it has reported stepping down.
    this.kettle.leadership$.subscribe(({ name, nodeId, isMaster, term, reason }) => {
      // leadership$ first tells the current role: a follower's has no reason, and is no event.
      if (!isMaster && !reason) return;
      if (name === this.election)
        this.subject.next({
          ev: 'leadership',
          node: nodeId,
          t: Date.now(),
          isMaster,
          term,
          reason,
        });
      else if (this.balanced.has(name))
        this.subject.next({
          ev: 'leading',
          node: nodeId,
          t: Date.now(),
          // Told after the change took effect: leading() includes it.
          elections: this.kettle.leading().filter((led) => this.balanced.has(led)),
          reason,
        });
    });
  }

  ran(name: string, term: number, scheduledAt: Date): void {
    if (name !== this.election) return;
    const node = this.kettle.nodeId;
    this.subject.next({ ev: 'run', node, t: Date.now(), term, slot: scheduledAt.getTime() });
  }

  ready(port: number): void {
    const node = this.kettle.nodeId;
    this.subject.next({ ev: 'ready', node, t: Date.now(), pid: process.pid, port });
  }
}
