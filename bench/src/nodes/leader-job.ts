import { Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { Interval, SchedulerRegistry } from '@nestjs/schedule';
import { env } from './env.js';
import { electionName } from './protocol.js';
import { reporter } from './reporter.js';

/**
 * How a leader-election package drives a job in Nest: an @Interval on every replica that runs
 * only where the package last said "elected". The packages have no cadence of their own.
 */
@Injectable()
export class LeaderJob implements OnApplicationBootstrap {
  constructor(private readonly scheduler: SchedulerRegistry) {}

  @Interval(env.interval)
  tick(): void {
    this.runIfLeader(0);
  }

  onApplicationBootstrap(): void {
    for (let i = 1; i < env.elections; i++) {
      const timer = setInterval(() => this.runIfLeader(i), env.interval);
      this.scheduler.addInterval(electionName(i), timer);
    }
  }

  private runIfLeader(index: number): void {
    if (reporter.isLeading(index)) reporter.run(index);
  }
}
