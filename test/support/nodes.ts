import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { Injectable, type INestApplicationContext, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  KettleModule,
  type KettleModuleOptions,
  KettleService,
  type LeadershipChange,
  type MasterContext,
  OnMaster,
} from '../../lib/index.js';

/**
 * False for the current role of a follower that leadership$ tells a new subscriber: a step-down
 * always has a reason. For tests that count what happened after they subscribed.
 */
export const isChange = (change: LeadershipChange): boolean =>
  change.isMaster || change.reason !== undefined;

/** One run of a master job, on the wall clock of this process (all test nodes share it). */
export interface RunRecord {
  nodeId: string;
  term: number;
  startedAt: number;
  signal: AbortSignal;
}

/** Every run of every in-process test node, in order. */
export class RunLog {
  readonly runs: RunRecord[] = [];
  /** How long a run takes; it ends early when its signal aborts. */
  runMs = 0;

  byNode(nodeId: string): RunRecord[] {
    return this.runs.filter((run) => run.nodeId === nodeId);
  }
}

export function uniquePrefix(): string {
  return `test:${randomBytes(4).toString('hex')}:`;
}

/**
 * Starts a Nest application context with KettleModule and one `@OnMaster(election)` job that
 * records into `log`: a node, as a user's app would be.
 */
export async function startNode(
  options: KettleModuleOptions,
  log: RunLog,
  election = 'job',
  jobOptions: { interval?: number; leaseTtl?: number } = {},
): Promise<{ app: INestApplicationContext; kettle: KettleService }> {
  @Injectable()
  class Job {
    constructor(readonly kettle: KettleService) {}

    @OnMaster(election, jobOptions)
    async run(context: MasterContext): Promise<void> {
      log.runs.push({
        nodeId: context.nodeId,
        term: context.term,
        startedAt: Date.now(),
        signal: context.signal,
      });
      if (log.runMs > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, log.runMs);
          context.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
    }
  }

  @Module({ imports: [KettleModule.forRoot(options)], providers: [Job] })
  class AppModule {}

  const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
  const job = app.get(Job);
  // Proves that Nest injected KettleService by its type (decorator metadata works in the test runner).
  if (!(job.kettle instanceof KettleService))
    throw new Error('KettleService was not injected by type');
  return { app, kettle: app.get(KettleService) };
}
