import { createServer, type Server, connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { KettleTimeoutError, withTimeout } from '../../lib/core/utils/promise-timeout.js';

/** Keeps the event loop busy for `ms`: a GC pause or a long synchronous job. */
function block(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('withTimeout', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  /** An answer over a real socket: it is read in the poll phase, as ioredis's replies are. */
  async function socketAnswer() {
    let answered!: () => void;
    const sent = new Promise<void>((resolve) => (answered = resolve));
    server = createServer((socket) => socket.on('data', () => socket.end('pong', answered)));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as { port: number };
    const client = connect(port, '127.0.0.1');
    await new Promise((resolve) => client.once('connect', resolve));
    const answer = new Promise<string>((resolve) =>
      client.once('data', (data) => resolve(data.toString())),
    );
    return { answer, ask: () => client.write('ping'), sent };
  }

  it('takes an answer that arrived while the event loop was blocked past the timeout', async () => {
    const { answer, ask, sent } = await socketAnswer();
    let timedOut = false;
    const result = withTimeout(answer, 20, 'claim', () => (timedOut = true));
    ask();
    await sent;
    // The answer waits in the socket while the loop is blocked; the timer is due before it is read.
    block(200);
    await expect(result).resolves.toBe('pong');
    expect(timedOut).toBe(false);
  });

  it('rejects, and says so once, when no answer came in time', async () => {
    let timeouts = 0;
    const never = new Promise<string>(() => undefined);
    await expect(withTimeout(never, 20, 'claim', () => timeouts++)).rejects.toThrow(
      new KettleTimeoutError('claim', 20),
    );
    expect(timeouts).toBe(1);
  });

  it('passes a rejection through, and hears no timeout after it', async () => {
    let timedOut = false;
    const failed = Promise.reject(new Error('NOPERM'));
    await expect(withTimeout(failed, 20, 'claim', () => (timedOut = true))).rejects.toThrow(
      'NOPERM',
    );
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(timedOut).toBe(false);
  });
});
