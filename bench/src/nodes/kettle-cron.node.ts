import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { KettleService, type MasterContext, OnMaster } from 'nestjs-kettle';
import { startNode } from './bootstrap.js';
import { benchKettle } from './kettle-module.js';
import { env } from './env.js';
import { electionName } from './protocol.js';
import { reporter } from './reporter.js';

/** kettle's native cron schedule: each slot claimed in Redis, once; the slot is scheduledAt. */
@Injectable()
class BenchJob implements OnModuleInit {
  constructor(private readonly kettle: KettleService) {}

  @OnMaster(electionName(0), { cron: env.cron, catchUp: 'latest' })
  run({ term, scheduledAt }: MasterContext): void {
    reporter.run(0, term, scheduledAt.getTime());
  }

  onModuleInit(): void {
    this.kettle.leadership$.subscribe(({ isMaster, term }) => reporter.lead(0, isMaster, term));
  }
}

@Module({
  imports: [benchKettle()],
  providers: [BenchJob],
})
class AppModule {}

void startNode(AppModule);
