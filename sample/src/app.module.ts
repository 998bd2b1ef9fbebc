import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { KettleModule } from 'nestjs-kettle';
import {
  BALANCED_ELECTIONS,
  BalancedElections,
  balancedElectionCount,
} from './balanced-elections.js';
import { HealthModule } from './health.module.js';
import { NodeEvents } from './node-events.js';
import { DailyReportJob } from './daily-report.job.js';
import { ReportJob } from './report.job.js';
import { REPORT_CRON } from './report-schedule.js';
import { StatusController } from './status.controller.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    KettleModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        // No `redis` option: kettle reads REDIS_URL, or REDIS_HOST with REDIS_PASSWORD and
        // REDIS_TIMEOUT_SECONDS, as the original kettle does.
        nodeId: config.get<string>('NODE_ID'),
        keyPrefix: config.get<string>('KETTLE_KEY_PREFIX', 'kettle:'),
        // Durations may be strings, as the environment gives them ('2000', '2s').
        interval: config.get('KETTLE_INTERVAL_MS', 2000),
        leaseTtl: config.get('KETTLE_LEASE_TTL_MS', 3000),
        store: config.get<'redis' | 'memory'>('KETTLE_STORE', 'redis'),
        verbose: true,
      }),
    }),
    HealthModule,
  ],
  providers: [
    ReportJob,
    DailyReportJob,
    NodeEvents,
    {
      provide: REPORT_CRON,
      inject: [ConfigService],
      useFactory: (config: ConfigService) => config.get<string>('REPORT_CRON') || undefined,
    },
    BalancedElections,
    {
      provide: BALANCED_ELECTIONS,
      inject: [ConfigService],
      useFactory: (config: ConfigService) =>
        balancedElectionCount(config.get<string>('BALANCED_ELECTIONS')),
    },
  ],
  controllers: [StatusController],
})
export class AppModule {}
