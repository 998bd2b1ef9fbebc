import { createServer, type Server, Socket } from 'node:net';
import { RespCounter } from './resp-counter.js';

/** What the clients of one proxy sent and got back, since it started. */
export interface Traffic {
  /** Commands (round trips) in what the clients sent, read as RESP. */
  commands: number;
  bytesSent: number;
  bytesReceived: number;
}

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
 * everything, as those to a host that vanished without a reset. It counts what passes
 * (`traffic`), whatever client library its clients use, at the cost of a loopback hop (tens of
 * microseconds) on every round trip.
 */
export class TcpProxy {
  private held = false;
  /** Added latency, each way. */
  delayMs = 0;
  private readonly queued: Array<() => void> = [];
  private readonly links = new Set<Link>();
  /** Every socket still open, a client's or an upstream one that has bytes to deliver. */
  private readonly sockets = new Set<Socket>();
  /** One per connection: a command may span two chunks of one connection. */
  private readonly counters: RespCounter[] = [];
  private bytesSent = 0;
  private bytesReceived = 0;

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

  traffic(): Traffic {
    const { bytesSent, bytesReceived } = this;
    const commands = this.counters.reduce((sum, counter) => sum + counter.commands, 0);
    return { commands, bytesSent, bytesReceived };
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(client: Socket): void {
    const upstream = new Socket({ allowHalfOpen: true });
    upstream.connect(this.target, '127.0.0.1');
    const link: Link = { client, upstream, blackHoled: false };
    this.links.add(link);
    const commands = new RespCounter();
    this.counters.push(commands);
    for (const socket of [client, upstream]) {
      socket.setNoDelay(true);
      this.sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => this.sockets.delete(socket));
    }
    const forward = (to: Socket) => {
      // One chain per direction: chunks leave in the order they came, whatever the delay. `null`
      // is the sender's close: like a FIN, it reaches the other side after what was sent before it.
      let chain = Promise.resolve();
      let waiting = 0;
      return (data: Buffer | null) => {
        // Black-holed, a close reaches nobody: the client's only ends the proxy's upstream socket.
        if (link.blackHoled) return void (data === null && to === upstream && to.destroy());
        const deliver = () => {
          if (link.blackHoled) return;
          if (data === null) to.end();
          else to.write(data);
        };
        if (this.held) return void this.queued.push(deliver);
        // Nothing delayed ahead of it: on its way at once.
        if (this.delayMs === 0 && waiting === 0) return deliver();
        const due = Date.now() + this.delayMs;
        waiting++;
        chain = chain.then(async () => {
          const wait = due - Date.now();
          if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
          waiting--;
          deliver();
        });
      };
    };
    const toUpstream = forward(upstream);
    const toClient = forward(client);
    client.on('data', (data: Buffer) => {
      this.bytesSent += data.length;
      commands.push(data);
      toUpstream(data);
    });
    upstream.on('data', (data: Buffer) => {
      this.bytesReceived += data.length;
      toClient(data);
    });
    // A client that gives up still has its bytes in flight delivered; the server going away (when
    // not black-holed) closes the client's connection.
    client.on('close', () => {
      this.links.delete(link);
      toUpstream(null);
    });
    client.on('end', () => toUpstream(null));
    upstream.on('end', () => toClient(null));
    upstream.on('close', () => link.blackHoled || client.destroy());
  }
}
