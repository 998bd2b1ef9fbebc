import { BullModule, InjectQueue, Processor, WorkerHost } from '@nestjs/bullmq';
import { Injectable, Module, type OnApplicationBootstrap } from '@nestjs/common';
import type { Job, Queue } from 'bullmq';
import { startNode } from './bootstrap.js';
import { env } from './env.js';
import { electionName } from './protocol.js';
import { reporter } from './reporter.js';

const QUEUE = 'bench';
/** Upserts at a time at boot, so 10,000 schedulers do not wait on one round trip each. */
const UPSERT_BATCH = 500;

/**
 * One worker per node, as the NestJS queues guide has it. Its lock is the lease: lockDuration
 * is the same leaseTtl as everyone's, and stalled jobs are looked for on the retry period.
 */
@Processor(QUEUE, { lockDuration: env.leaseTtl, stalledInterval: env.retry })
class BenchWorker extends WorkerHost {
  async process(job: Job<{ index: number }>): Promise<void> {
    reporter.run(job.data.index);
  }
}

/** Every replica upserts the schedulers at boot: idempotent, and the docs' way to deploy them. */
@Injectable()
class Schedulers implements OnApplicationBootstrap {
  constructor(@InjectQueue(QUEUE) private readonly queue: Queue) {}

  async onApplicationBootstrap(): Promise<void> {
    for (let first = 0; first < env.elections; first += UPSERT_BATCH) {
      const last = Math.min(env.elections, first + UPSERT_BATCH);
      const batch: Array<Promise<unknown>> = [];
      for (let index = first; index < last; index++) {
        batch.push(
          this.queue.upsertJobScheduler(
            electionName(index),
            { every: env.interval },
            {
              name: electionName(index),
              data: { index },
              // The docs' advice: keep a few finished jobs, not all of them, or Redis grows forever.
              opts: { removeOnComplete: 100, removeOnFail: 100 },
            },
          ),
        );
      }
      await Promise.all(batch);
    }
  }
}

@Module({
  imports: [
    BullModule.forRoot({ connection: { host: env.host, port: env.port } }),
    BullModule.registerQueue({ name: QUEUE }),
  ],
  providers: [BenchWorker, Schedulers],
})
class AppModule {}

void startNode(AppModule);
