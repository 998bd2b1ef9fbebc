/**
 * A node of the demo: the sample app as main.ts serves it, with its NodeEvents written on stdout
 * as event lines for the demo to follow. When the demo ends, however it ends, the IPC channel it
 * opened to the node closes: the node then shuts down as on SIGTERM, releasing its lease, so that
 * no node outlives the demo.
 */
import 'reflect-metadata';
import { writeEventLine } from '#tools/event-lines.js';
import { serve } from '../serve.js';

if (process.channel) {
  // The channel alone must not keep the node running.
  process.channel.unref();
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}

void serve((events) => events.events$.subscribe((event) => writeEventLine(event)));
