import { Controller, Get } from '@nestjs/common';
import { KettleService } from 'nestjs-kettle';
import { ReportJob } from './report.job.js';

@Controller('kettle')
export class StatusController {
  constructor(
    private readonly kettle: KettleService,
    private readonly job: ReportJob,
  ) {}

  /** This node's view: its id, and per election its role, term and the current master. */
  @Get()
  async status() {
    const elections = await Promise.all(
      this.kettle.names().map(async (name) => ({
        name,
        role: this.kettle.isMaster(name) ? 'master' : 'follower',
        term: this.kettle.term(name) ?? null,
        master: await this.kettle.getMaster(name).catch(() => null),
        leaseLeftMs: Math.round(this.kettle.leaseLeft(name)),
        stats: this.kettle.stats(name),
      })),
    );
    return {
      nodeId: this.kettle.nodeId,
      pid: process.pid,
      elections,
      lastRun: this.job.lastRun ?? null,
      runs: this.job.runs,
    };
  }
}
