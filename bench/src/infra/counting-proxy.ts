import { createServer, type Server, Socket } from 'node:net';
import { RespCounter } from './resp-counter.js';

/** What one node sent to Redis and got back, since its proxy started. */
export interface Traffic {
  commands: number;
  bytesSent: number;
  bytesReceived: number;
}

/**
 * A TCP proxy between one node and the bench Redis that counts what the node sends: commands
 * (round trips) and bytes, per node, whatever client library the peer uses. It adds a loopback hop
 * (tens of microseconds) to every peer alike.
 */
export class CountingProxy {
  private readonly sockets = new Set<Socket>();
  private readonly counters: RespCounter[] = [];
  private bytesSent = 0;
  private bytesReceived = 0;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(redisPort: number): Promise<CountingProxy> {
    let proxy!: CountingProxy;
    const server = createServer((client) => proxy.pipe(client, redisPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new CountingProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  traffic(): Traffic {
    let commands = 0;
    for (const counter of this.counters) commands += counter.commands;
    return { commands, bytesSent: this.bytesSent, bytesReceived: this.bytesReceived };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(client: Socket, redisPort: number): void {
    const upstream = new Socket();
    upstream.connect(redisPort, '127.0.0.1');
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const counter = new RespCounter();
    this.counters.push(counter);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    client.on('data', (data: Buffer) => {
      this.bytesSent += data.length;
      counter.push(data);
      upstream.write(data);
    });
    upstream.on('data', (data: Buffer) => {
      this.bytesReceived += data.length;
      client.write(data);
    });
  }
}
