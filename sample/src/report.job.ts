import { Inject, Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { KettleService, type MasterContext, OnMaster } from 'nestjs-kettle';
import { NodeEvents } from './node-events.js';
import { CRON_REPORT, INTERVAL_REPORT, REPORT_CRON } from './report-schedule.js';

export interface LastRun {
  term: number;
  at: string;
  scheduledAt: string;
}

/** Work that must happen on one replica only, every interval (or on the REPORT_CRON schedule). */
@Injectable()
export class ReportJob implements OnModuleInit {
  private readonly logger = new Logger(ReportJob.name);
  lastRun?: LastRun;
  runs = 0;

  constructor(
    private readonly events: NodeEvents,
    private readonly kettle: KettleService,
    @Inject(REPORT_CRON) private readonly cron: string | undefined,
  ) {}

  onModuleInit(): void {
    // A bad expression fails the bootstrap with an error that names it.
    if (this.cron)
      this.kettle.schedule(CRON_REPORT, { cron: this.cron }, (context) =>
        this.report(CRON_REPORT, context),
      );
  }

  @OnMaster(INTERVAL_REPORT)
  async publish(context: MasterContext): Promise<void> {
    await this.report(INTERVAL_REPORT, context);
  }

  private async report(name: string, { term, scheduledAt, signal }: MasterContext): Promise<void> {
    this.runs++;
    this.lastRun = { term, at: new Date().toISOString(), scheduledAt: scheduledAt.toISOString() };
    this.logger.log(
      `${name}: run ${this.runs} as master, term ${term}, slot ${scheduledAt.toISOString()}`,
    );
    this.events.ran(name, term, scheduledAt);
    // A real job would pass `term` to the store it writes to, and stop when `signal` aborts.
    if (signal.aborted) return;
  }
}
