import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { Cron, ScheduleModule } from '@nestjs/schedule';
import { ExecutionError, Redlock } from '@sesamecare-oss/redlock';
import { Redis } from 'ioredis';
import { startNode } from './bootstrap.js';
import { env } from './env.js';
import { slotOfFiring } from './firing-time.js';
import { electionName } from './protocol.js';
import { redlockProviders } from './redis-client.js';
import { reporter } from './reporter.js';

/** redlock's README recipe around a `@Cron`: a lock around the job, released when it ends. */
@Injectable()
class BenchJob implements OnApplicationShutdown {
  constructor(
    private readonly redis: Redis,
    private readonly redlock: Redlock,
  ) {}

  @Cron(env.cron)
  async tick(): Promise<void> {
    const slot = slotOfFiring(Date.now());
    try {
      await this.redlock.using([`locks:${electionName(0)}`], env.leaseTtl, async () =>
        reporter.run(0, undefined, slot),
      );
    } catch (error) {
      // Another replica holds the lock: this one skips the firing.
      if (!(error instanceof ExecutionError)) reporter.error(String(error));
    }
  }

  /** @nestjs/schedule stops every cron job before shutdown; the connection goes last. */
  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit();
  }
}

@Module({
  imports: [ScheduleModule.forRoot()],
  providers: [...redlockProviders, BenchJob],
})
class AppModule {}

void startNode(AppModule);
