import { Injectable, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Redis } from 'ioredis';
import Leader from 'redis-leader';
import { startNode } from './bootstrap.js';
import { env } from './env.js';
import { LeaderJob } from './leader-job.js';
import { electionName } from './protocol.js';
import { redisClient } from './redis-client.js';
import { reporter } from './reporter.js';

/** How long a shutdown waits for a leader's release (GET, then DEL) to be done. */
const STOP_WAIT_MS = 1000;

/** redis-leader, per its README: one Leader per key, `elected` and `revoked` events, stop() on the way out. */
@Injectable()
class Leaders implements OnModuleInit, OnApplicationShutdown {
  private readonly leaders: Leader[] = [];

  constructor(private readonly redis: Redis) {}

  onModuleInit(): void {
    for (let i = 0; i < env.elections; i++) {
      const leader = new Leader(this.redis, {
        key: electionName(i),
        ttl: env.leaseTtl,
        wait: env.retry,
      });
      leader.on('elected', () => reporter.lead(i, true));
      leader.on('revoked', () => reporter.lead(i, false));
      leader.on('error', (error: Error) => reporter.error(`redis-leader: ${error.message}`));
      leader.elect();
      this.leaders.push(leader);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.leaders.map((leader, i) => this.stop(leader, i)));
    await this.redis.quit();
  }

  /**
   * stop() takes no callback, whatever the README says: the DEL goes out after a GET round trip,
   * so wait for the `revoked` it emits before closing the connection under it.
   */
  private stop(leader: Leader, index: number): Promise<void> {
    const leading = reporter.isLeading(index);
    leader.stop();
    if (!leading) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, STOP_WAIT_MS);
      leader.once('revoked', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

@Module({
  imports: [ScheduleModule.forRoot()],
  providers: [{ provide: Redis, useFactory: () => redisClient() }, Leaders, LeaderJob],
})
class AppModule {}

void startNode(AppModule);
