import { Injectable, Logger } from '@nestjs/common';
import { type MasterContext, OnMaster } from 'nestjs-kettle';
import { NodeEvents } from './node-events.js';

export interface LastRun {
  term: number;
  at: string;
}

/** Work that must happen on one replica only, every interval. */
@Injectable()
export class ReportJob {
  private readonly logger = new Logger(ReportJob.name);
  lastRun?: LastRun;
  runs = 0;

  constructor(private readonly events: NodeEvents) {}

  @OnMaster('report')
  async publish({ term, signal }: MasterContext): Promise<void> {
    this.runs++;
    this.lastRun = { term, at: new Date().toISOString() };
    this.logger.log(`run ${this.runs} as master, term ${term}`);
    this.events.ran(term);
    // A real job would pass `term` to the store it writes to, and stop when `signal` aborts.
    if (signal.aborted) return;
  }
}
