/**
 * The sample's report job runs every interval (`@OnMaster('report')`), or, when REPORT_CRON is set,
 * on that cron schedule as a job added at run time (`kettle.schedule`). The demo follows the one in
 * use: its runs and its master.
 */
export const REPORT_CRON = Symbol('REPORT_CRON');

export const INTERVAL_REPORT = 'report';
export const CRON_REPORT = 'report-on-cron';

/** The election of the report job in use: the cron one when a cron expression is given. */
export function reportElection(cron: string | undefined): string {
  return cron ? CRON_REPORT : INTERVAL_REPORT;
}
