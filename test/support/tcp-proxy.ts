import { createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy between one node and Redis, to cut that node off alone. While `partitioned`, bytes
 * are held back in both directions and connections stay open, as in a network partition; when it
 * heals they arrive late, in order: Kleppmann's delayed packets.
 */
export class TcpProxy {
  private held = false;
  /** Added latency, each way. */
  delayMs = 0;
  private readonly queued: Array<() => void> = [];
  private readonly sockets = new Set<Socket>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy!: TcpProxy;
    const server = createServer((client) => proxy.pipe(client, targetPort));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as { port: number }).port);
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  partition(): void {
    this.held = true;
  }

  heal(): void {
    this.held = false;
    for (const deliver of this.queued.splice(0)) deliver();
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(client: Socket, targetPort: number): void {
    const upstream = new (client.constructor as typeof Socket)();
    upstream.connect(targetPort, '127.0.0.1');
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    const forward = (to: Socket) => {
      // One chain per direction: chunks leave in the order they came, whatever the delay.
      let chain = Promise.resolve();
      return (data: Buffer) => {
        const deliver = () => void to.write(data);
        if (this.held) return void this.queued.push(deliver);
        const due = Date.now() + this.delayMs;
        chain = chain.then(async () => {
          const wait = due - Date.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          deliver();
        });
      };
    };
    client.on('data', forward(upstream));
    upstream.on('data', forward(client));
  }
}
