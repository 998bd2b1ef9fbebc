import { createServer, type Server, Socket } from 'node:net';

/** One client connection and its connection to the target, as the proxy carries them. */
interface Link {
  readonly client: Socket;
  readonly upstream: Socket;
  /** Bytes are swallowed both ways and the sockets stay open, even after a FIN. */
  blackHoled: boolean;
}

/**
 * A TCP proxy in front of Redis. In front of one node, it cuts that node off alone: while
 * `partitioned`, bytes are held back in both directions and connections stay open, as in a network
 * partition; when it heals they arrive late, in order: Kleppmann's delayed packets. In front of
 * every node, it is the one address that managed Redis moves on a failover: `retarget` sends new
 * connections to another server, and `blackHole` makes the connections opened before it swallow
 * everything, as those to a host that vanished without a reset.
 */
export class TcpProxy {
  private held = false;
  /** Added latency, each way. */
  delayMs = 0;
  private readonly queued: Array<() => void> = [];
  private readonly links = new Set<Link>();
  private constructor(
    private readonly server: Server,
    readonly port: number,
    private target: number,
  ) {}

  static async start(targetPort: number): Promise<TcpProxy> {
    let proxy!: TcpProxy;
    // Half-open allowed: a black-holed connection must not answer a client's FIN with its own.
    const server = createServer({ allowHalfOpen: true }, (client) => proxy.pipe(client));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    proxy = new TcpProxy(server, (server.address() as { port: number }).port, targetPort);
    return proxy;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The port new connections go to. */
  get targetPort(): number {
    return this.target;
  }

  partition(): void {
    this.held = true;
  }

  heal(): void {
    this.held = false;
    for (const deliver of this.queued.splice(0)) deliver();
  }

  /** New connections go to `port`; those already open stay where they are. */
  retarget(port: number): void {
    this.target = port;
  }

  /** Every connection open now swallows what is sent on it, both ways, until its client gives up. */
  blackHole(): void {
    for (const link of this.links) link.blackHoled = true;
  }

  /** How many connections are open now, black-holed or not. */
  get connections(): number {
    return this.links.size;
  }

  async close(): Promise<void> {
    for (const { client, upstream } of this.links) {
      client.destroy();
      upstream.destroy();
    }
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(client: Socket): void {
    const upstream = new Socket({ allowHalfOpen: true });
    upstream.connect(this.target, '127.0.0.1');
    const link: Link = { client, upstream, blackHoled: false };
    this.links.add(link);
    for (const socket of [client, upstream]) socket.on('error', () => undefined);
    // The client giving up ends both; the server going away ends the client's, unless black-holed.
    client.on('close', () => {
      this.links.delete(link);
      upstream.destroy();
    });
    upstream.on('close', () => {
      if (!link.blackHoled) client.destroy();
    });
    client.on('end', () => link.blackHoled || upstream.end());
    upstream.on('end', () => link.blackHoled || client.end());
    const forward = (to: Socket) => {
      // One chain per direction: chunks leave in the order they came, whatever the delay.
      let chain = Promise.resolve();
      return (data: Buffer) => {
        const deliver = () => void (link.blackHoled || to.write(data));
        if (link.blackHoled) return;
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
