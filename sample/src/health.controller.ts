import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService } from '@nestjs/terminus';
import { KettleHealthIndicator } from 'nestjs-kettle/health';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly kettle: KettleHealthIndicator,
  ) {}

  /**
   * For a readiness probe: 200 while the store answers (master or follower), 503 when it does not.
   * Not for a liveness probe: a Redis outage would restart every replica.
   */
  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.kettle.isHealthy()]);
  }
}
