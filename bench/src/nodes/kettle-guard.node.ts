import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { Cron, ScheduleModule } from '@nestjs/schedule';
import { KettleService, OnMaster } from 'nestjs-kettle';
import { startNode } from './bootstrap.js';
import { benchKettle } from './kettle-module.js';
import { env } from './env.js';
import { slotOfFiring, WithFiringTime } from './firing-time.js';
import { electionName } from './protocol.js';
import { reporter } from './reporter.js';

/** kettle guarding a `@Cron` of @nestjs/schedule: it fires on every node, the body runs once per slot. */
@Injectable()
class BenchJob implements OnModuleInit {
  constructor(private readonly kettle: KettleService) {}

  @Cron(env.cron)
  @WithFiringTime()
  @OnMaster(electionName(0))
  // WithFiringTime passes the time; @OnMaster's type allows only what kettle itself could pass.
  run(firedAt?: unknown): void {
    reporter.run(0, this.kettle.term(electionName(0)), slotOfFiring(firedAt as number));
  }

  onModuleInit(): void {
    this.kettle.leadership$.subscribe(({ isMaster, term }) => reporter.lead(0, isMaster, term));
  }
}

@Module({
  imports: [ScheduleModule.forRoot(), benchKettle()],
  providers: [BenchJob],
})
class AppModule {}

void startNode(AppModule);
