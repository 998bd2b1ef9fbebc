import { type DynamicModule, Module } from '@nestjs/common';
import { KettleModule, type KettleStore } from 'nestjs-kettle';
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
}

/**
 * The sample app's parts (ReportJob, NodeEvents, GET /kettle) with the settings passed in instead
 * of read from the environment as AppModule does: nodes that share a process cannot each have
 * their own environment.
 */
@Module({})
export class InProcessNodeModule {
  static forNode({
    nodeId,
    store,
    intervalMs,
    leaseMs,
    cron,
  }: InProcessNodeOptions): DynamicModule {
    return {
      module: InProcessNodeModule,
      imports: [KettleModule.forRoot({ nodeId, store, interval: intervalMs, leaseTtl: leaseMs })],
      providers: [ReportJob, NodeEvents, { provide: REPORT_CRON, useValue: cron }],
      controllers: [StatusController],
    };
  }
}
