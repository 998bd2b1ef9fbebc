import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import { KettleService, type StepDownReason } from 'nestjs-kettle';
import { type Observable, Subject } from 'rxjs';
import { REPORT_CRON, reportElection } from './report-schedule.js';

/** One thing this node did; `at` is this machine's wall clock (ms), so nodes on one host compare. */
export type NodeEvent =
  | { type: 'ready'; nodeId: string; pid: number; port: number; at: number }
  /** `slot`: the run's scheduledAt (ms), the same whichever node runs it. */
  | { type: 'run'; nodeId: string; term: number; slot: number; at: number }
  | {
      type: 'leadership';
      nodeId: string;
      isMaster: boolean;
      term: number;
      reason?: StepDownReason;
      at: number;
    };

/**
 * What this node does for its report job, as a stream: each run and each change of its role in the
 * job's election (the other elections of the app are left out). main.ts prints it as JSON lines
 * when JSON_EVENTS=1; the demo (`npm run demo`) follows its nodes through them.
 */
@Injectable()
export class NodeEvents implements OnModuleInit {
  private readonly subject = new Subject<NodeEvent>();
  readonly events$: Observable<NodeEvent> = this.subject.asObservable();
  /** The election followed: the report job's in use. */
  readonly election: string;

  constructor(
    private readonly kettle: KettleService,
    @Inject(REPORT_CRON) cron: string | undefined,
  ) {
    this.election = reportElection(cron);
  }

  onModuleInit(): void {
    // Elections start at bootstrap, after every onModuleInit: no change is missed. The stream ends
    // when kettle shuts down, after it has reported stepping down.
    this.kettle.leadership$.subscribe(({ name, nodeId, isMaster, term, reason }) => {
      if (name === this.election)
        this.subject.next({ type: 'leadership', nodeId, isMaster, term, reason, at: Date.now() });
    });
  }

  ran(name: string, term: number, scheduledAt: Date): void {
    if (name !== this.election) return;
    const { nodeId } = this.kettle;
    this.subject.next({ type: 'run', nodeId, term, slot: scheduledAt.getTime(), at: Date.now() });
  }

  ready(port: number): void {
    const { nodeId } = this.kettle;
    this.subject.next({ type: 'ready', nodeId, pid: process.pid, port, at: Date.now() });
  }
}
