import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { KettleHealthIndicator } from 'nestjs-kettle/health';
import { HealthController } from './health.controller.js';

/** GET /health. KettleHealthIndicator reads through the store that the global KettleModule exports. */
@Module({
  imports: [TerminusModule],
  controllers: [HealthController],
  providers: [KettleHealthIndicator],
})
export class HealthModule {}
