import { Injectable, type OnModuleInit } from '@nestjs/common';
import { KettleService, type StepDownReason } from 'nestjs-kettle';
import { type Observable, Subject } from 'rxjs';

/** One thing this node did; `at` is this machine's wall clock (ms), so nodes on one host compare. */
export type NodeEvent =
  | { type: 'ready'; nodeId: string; pid: number; port: number; at: number }
  | { type: 'run'; nodeId: string; term: number; at: number }
  | {
      type: 'leadership';
      nodeId: string;
      isMaster: boolean;
      term: number;
      reason?: StepDownReason;
      at: number;
    };

/**
 * What this node does, as a stream: each run of the master job and each change of its role.
 * main.ts prints it as JSON lines when JSON_EVENTS=1; the demo (`npm run demo`) follows its nodes
 * through them.
 */
@Injectable()
export class NodeEvents implements OnModuleInit {
  private readonly subject = new Subject<NodeEvent>();
  readonly events$: Observable<NodeEvent> = this.subject.asObservable();

  constructor(private readonly kettle: KettleService) {}

  onModuleInit(): void {
    // Elections start at bootstrap, after every onModuleInit: no change is missed. The stream ends
    // when kettle shuts down, after it has reported stepping down.
    this.kettle.leadership$.subscribe(({ nodeId, isMaster, term, reason }) =>
      this.subject.next({ type: 'leadership', nodeId, isMaster, term, reason, at: Date.now() }),
    );
  }

  ran(term: number): void {
    this.subject.next({ type: 'run', nodeId: this.kettle.nodeId, term, at: Date.now() });
  }

  ready(port: number): void {
    const { nodeId } = this.kettle;
    this.subject.next({ type: 'ready', nodeId, pid: process.pid, port, at: Date.now() });
  }
}
