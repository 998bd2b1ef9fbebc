import {
  Injectable,
  Module,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { Interval, ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { ExecutionError, Redlock } from '@sesamecare-oss/redlock';
import { Redis } from 'ioredis';
import { startNode } from './bootstrap.js';
import { env } from './env.js';
import { electionName } from './protocol.js';
import { redlockProviders } from './redis-client.js';
import { reporter } from './reporter.js';

/**
 * `using`: the recipe of redlock's README, a lock around the job, released when it ends.
 * `hold`: the lock is taken for nine tenths of the interval and never released, so that the
 * other replicas' ticks in the same interval find it taken (ShedLock's "lock at least for").
 */
const mode = process.env.REDLOCK_MODE === 'hold' ? 'hold' : 'using';
const holdMs = env.interval - Math.floor(env.interval / 10);

@Injectable()
class BenchJob implements OnApplicationBootstrap, OnApplicationShutdown {
  constructor(
    private readonly redis: Redis,
    private readonly redlock: Redlock,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  @Interval(env.interval)
  async tick(): Promise<void> {
    await this.runOnce(0);
  }

  onApplicationBootstrap(): void {
    for (let i = 1; i < env.elections; i++) {
      const timer = setInterval(() => void this.runOnce(i), env.interval);
      this.scheduler.addInterval(electionName(i), timer);
    }
  }

  /** @nestjs/schedule clears every interval before shutdown; the connection goes last. */
  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit();
  }

  private async runOnce(index: number): Promise<void> {
    const resource = `locks:${electionName(index)}`;
    try {
      if (mode === 'hold') {
        await this.redlock.acquire([resource], holdMs);
        reporter.run(index);
      } else {
        await this.redlock.using([resource], env.leaseTtl, async () => reporter.run(index));
      }
    } catch (error) {
      // Another replica holds the lock: this one skips the tick.
      if (!(error instanceof ExecutionError)) reporter.error(String(error));
    }
  }
}

@Module({
  imports: [ScheduleModule.forRoot()],
  providers: [...redlockProviders, BenchJob],
})
class AppModule {}

void startNode(AppModule);
