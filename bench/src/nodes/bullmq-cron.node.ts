import { BullModule, InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { startNode } from './bootstrap.js';
import { env } from './env.js';
import { electionName } from './protocol.js';
import { reporter } from './reporter.js';

const QUEUE = 'bench-cron';

/**
 * The job's scheduled instant: the pattern's date the scheduler made it for (`prevMillis`, also in
 * its id `repeat:<scheduler>:<date>`), else its creation time plus its delay.
 */
function scheduledAt(job: Job): number {
  const { prevMillis } = job.opts as { prevMillis?: number };
  return prevMillis ?? job.timestamp + (job.opts.delay ?? 0);
}

/** One worker per node; its lock is the lease, as in the interval scenarios. */
@Processor(QUEUE, { lockDuration: env.leaseTtl, stalledInterval: env.retry })
class BenchWorker extends WorkerHost {
  async process(job: Job): Promise<void> {
    reporter.run(0, undefined, scheduledAt(job));
  }
}

/** Every replica upserts the scheduler at boot, with the cron pattern: idempotent. */
@Injectable()
class Scheduler implements OnApplicationBootstrap {
  constructor(@InjectQueue(QUEUE) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    await this.queue.upsertJobScheduler(
      electionName(0),
      { pattern: env.cron },
      { name: electionName(0), opts: { removeOnComplete: 100, removeOnFail: 100 } },
    );
  }
}

@Module({
  imports: [
    BullModule.forRoot({ connection: { host: env.host, port: env.port } }),
    BullModule.registerQueue({ name: QUEUE }),
  ],
  providers: [BenchWorker, Scheduler],
})
class AppModule {}

void startNode(AppModule);
