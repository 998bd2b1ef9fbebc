import { Injectable, Logger } from '@nestjs/common';
import { type MasterContext, OnMaster } from 'nestjs-kettle';

export interface DailyReport {
  /** The day the report is for, in the job's zone: the slot's date, the same on every node. */
  day: string;
  /** The fencing token it was written with. */
  term: number;
}

const ZONE = 'Europe/Paris';
const dayOf = new Intl.DateTimeFormat('en-CA', { timeZone: ZONE, dateStyle: 'short' });

/**
 * A daily job: at 02:00 Paris time, once a day on one replica, whichever node is master then. A
 * master that crashes just before 02:00 is replaced by one that runs the slot a lease later
 * (catchUp 'latest', the default); a graceful hand-over neither repeats nor skips it.
 */
@Injectable()
export class DailyReportJob {
  private readonly logger = new Logger(DailyReportJob.name);
  /** What the last run wrote; a real job would write it to a store that checks `term`. */
  latest?: DailyReport;

  @OnMaster('daily-report', { cron: '0 0 2 * * *', timeZone: ZONE })
  async build({ scheduledAt, term, throwIfLost }: MasterContext): Promise<void> {
    // The slot, not the clock, names the day: a run a little late still reports its own day.
    const day = dayOf.format(scheduledAt);
    // ...gather the day's figures here, passing `signal` to what can be cancelled...
    throwIfLost(); // the lease may have ended while this process was paused
    this.write({ day, term });
  }

  /** Stands for a fenced write: fencedSet(redis, key, value, context), or WHERE term <= $term. */
  private write(report: DailyReport): void {
    if (this.latest && this.latest.term > report.term) return;
    this.latest = report;
    this.logger.log(`daily report for ${report.day} written, term ${report.term}`);
  }
}
