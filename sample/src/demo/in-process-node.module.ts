import { type DynamicModule, Module } from '@nestjs/common';
import { KettleModule, type KettleStore } from 'nestjs-kettle';
import { BALANCED_ELECTIONS, BalancedElections } from '../balanced-elections.js';
import { NodeEvents } from '../node-events.js';
import { ReportJob } from '../report.job.js';
import { REPORT_CRON } from '../report-schedule.js';
import { StatusController } from '../status.controller.js';

export interface InProcessNodeOptions {
  nodeId: string;
  store: KettleStore;
  intervalMs: number;
  leaseMs: number;
  /** Runs the report job on this cron schedule instead of every interval. */
  cron?: string;
  /** Balanced elections it joins besides the report job's. */
  elections: number;
}

/**
 * The sample app's parts (ReportJob, BalancedElections, NodeEvents, GET /kettle) with the settings
 * passed in instead of read from the environment as AppModule does: nodes that share a process
 * cannot each have their own environment.
 */
@Module({})
export class InProcessNodeModule {
  static forNode({
    nodeId,
    store,
    intervalMs,
    leaseMs,
    cron,
    elections,
  }: InProcessNodeOptions): DynamicModule {
    return {
      module: InProcessNodeModule,
      imports: [KettleModule.forRoot({ nodeId, store, interval: intervalMs, leaseTtl: leaseMs })],
      providers: [
        ReportJob,
        NodeEvents,
        BalancedElections,
        { provide: REPORT_CRON, useValue: cron },
        { provide: BALANCED_ELECTIONS, useValue: elections },
      ],
      controllers: [StatusController],
    };
  }
}
