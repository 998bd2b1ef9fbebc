import { Injectable } from '@nestjs/common';
import { type MasterContext, OnMaster } from 'nestjs-kettle';

/** A job of the app's own, tested with Jest in cleanup.job.spec.ts. */
@Injectable()
export class CleanupJob {
  /** The term of each run. */
  readonly runs: number[] = [];

  @OnMaster('cleanup', { interval: 60_000 })
  run({ term }: MasterContext): void {
    this.runs.push(term);
  }
}
