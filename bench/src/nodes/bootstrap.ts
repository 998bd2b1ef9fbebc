import 'reflect-metadata';
import type { Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { reporter } from './reporter.js';

/**
 * Starts a node as its peer's documentation has it: a Nest application context (no HTTP server,
 * the same for every peer) with shutdown hooks on, so SIGTERM runs the modules' shutdown code.
 */
export async function startNode(module: Type<unknown>): Promise<void> {
  process.on('unhandledRejection', (error) =>
    reporter.error(`unhandled rejection: ${String(error)}`),
  );
  await reporter.parked();
  const app = await NestFactory.createApplicationContext(module, {
    logger: ['error', 'warn'],
  });
  app.enableShutdownHooks();
  reporter.ready();
}
