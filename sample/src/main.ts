import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { NodeEvents } from './node-events.js';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  // SIGTERM and SIGINT run app.close(): kettle releases its leases and a follower takes over at once.
  app.enableShutdownHooks();
  const events = app.get(NodeEvents);
  if (process.env.JSON_EVENTS === '1') {
    // One JSON line per event on stdout, for a program that watches this node (npm run demo).
    // Subscribed before listen(): the elections start there.
    events.events$.subscribe((event) => process.stdout.write(`${JSON.stringify(event)}\n`));
  }
  // PORT=0 picks a free port; the ready event says which.
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  events.ready((app.getHttpServer().address() as AddressInfo).port);
}

void bootstrap();
