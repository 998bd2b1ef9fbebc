import { Injectable, Module, type OnModuleInit } from '@nestjs/common';
import { KettleService, type MasterContext, OnMaster } from 'nestjs-kettle';
import { startNode } from './bootstrap.js';
import { benchKettle } from './kettle-module.js';
import { env } from './env.js';
import { electionName } from './protocol.js';
import { reporter } from './reporter.js';

/**
 * nestjs-kettle, as its README has it: @OnMaster for the known job, join() for the rest; with
 * BALANCE=1 the module's `balance: true` spreads their leadership over the nodes, and
 * CRASH_DETECTION sets its `crashDetection`.
 */
@Injectable()
class BenchJob implements OnModuleInit {
  constructor(private readonly kettle: KettleService) {}

  @OnMaster(electionName(0))
  run({ term, scheduledAt }: MasterContext): void {
    reporter.run(0, term, scheduledAt.getTime());
  }

  // Before bootstrap, when kettle starts its elections: no leadership change can be missed.
  onModuleInit(): void {
    const index = new Map<string, number>();
    for (let i = 0; i < env.elections; i++) index.set(electionName(i), i);
    this.kettle.leadership$.subscribe(({ name, isMaster, term, reason }) =>
      reporter.lead(index.get(name) ?? -1, isMaster, term, reason),
    );
    for (let i = 1; i < env.elections; i++) {
      this.kettle.join(electionName(i), {
        run: ({ term, scheduledAt }) => reporter.run(i, term, scheduledAt.getTime()),
      });
    }
  }
}

@Module({
  imports: [
    benchKettle({
      interval: env.interval,
      balance: env.balance,
      ...(env.crashDetection && { crashDetection: env.crashDetection }),
    }),
  ],
  providers: [BenchJob],
})
class AppModule {}

void startNode(AppModule);
