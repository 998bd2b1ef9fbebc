import { Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { KettleModule } from 'nestjs-kettle';
import { ReportJob } from './report.job.js';
import { StatusController } from './status.controller.js';

@Module({
  imports: [
    ConfigModule.forRoot({ isGlobal: true }),
    KettleModule.forRootAsync({
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({
        // Absent, kettle reads REDIS_URL or REDIS_HOST/REDIS_PASSWORD/REDIS_TIMEOUT_SECONDS itself.
        redis: config.get<string>('REDIS_URL'),
        nodeId: config.get<string>('NODE_ID'),
        keyPrefix: config.get<string>('KETTLE_KEY_PREFIX', 'kettle:'),
        interval: Number(config.get('KETTLE_INTERVAL_MS', 2000)),
        leaseTtl: Number(config.get('KETTLE_LEASE_TTL_MS', 3000)),
        store: config.get<'redis' | 'memory'>('KETTLE_STORE', 'redis'),
        verbose: true,
      }),
    }),
  ],
  providers: [ReportJob],
  controllers: [StatusController],
})
export class AppModule {}
