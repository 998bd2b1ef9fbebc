import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { NodeEvents } from './node-events.js';

/**
 * Boots the sample app and serves it on PORT (3000; 0 picks a free port, which the ready event
 * names). `watch` gets its NodeEvents before the elections start, at listen().
 */
export async function serve(watch?: (events: NodeEvents) => void): Promise<INestApplication> {
  const app = await NestFactory.create(AppModule);
  // SIGTERM and SIGINT run app.close(): kettle releases its leases and a follower takes over at once.
  app.enableShutdownHooks();
  const events = app.get(NodeEvents);
  watch?.(events);
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  events.ready((app.getHttpServer().address() as AddressInfo).port);
  return app;
}
