import { Injectable, Module, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Redis } from 'ioredis';
import { SafeRedisLeader } from 'ts-safe-redis-leader';
import { startNode } from './bootstrap.js';
import { env } from './env.js';
import { LeaderJob } from './leader-job.js';
import { electionName } from './protocol.js';
import { redisClient } from './redis-client.js';
import { reporter } from './reporter.js';

/**
 * ts-safe-redis-leader, per its README: the client options it shows, one SafeRedisLeader per key
 * (ttl = leaseTtl, wait = the retry period), `elected` / `demoted` events, shutdown() on the way out.
 */
@Injectable()
class Leaders implements OnModuleInit, OnApplicationShutdown {
  private readonly leaders: SafeRedisLeader[] = [];

  constructor(private readonly redis: Redis) {}

  onModuleInit(): void {
    for (let i = 0; i < env.elections; i++) {
      const leader = new SafeRedisLeader(this.redis, env.leaseTtl, env.retry, electionName(i));
      leader.on('elected', () => reporter.lead(i, true));
      leader.on('demoted', () => reporter.lead(i, false));
      leader.emitter.on('error', (error: Error) => reporter.error(`safe-leader: ${error.message}`));
      void leader.elect();
      this.leaders.push(leader);
    }
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.leaders.map((leader) => leader.shutdown()));
    await this.redis.quit();
  }
}

@Module({
  imports: [ScheduleModule.forRoot()],
  providers: [
    {
      provide: Redis,
      useFactory: () =>
        redisClient({ autoResubscribe: false, lazyConnect: true, maxRetriesPerRequest: 0 }),
    },
    Leaders,
    LeaderJob,
  ],
})
class AppModule {}

void startNode(AppModule);
