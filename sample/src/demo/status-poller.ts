import { get } from 'node:http';
import type { StatusController } from '../status.controller.js';
import type { ClusterState } from './cluster-state.js';

type Status = Awaited<ReturnType<StatusController['status']>>;

/** GET http://127.0.0.1:<port>/kettle; a new connection each time, so none is left open. */
function fetchStatus(port: number, timeoutMs: number): Promise<Status> {
  return new Promise((resolve, reject) => {
    const request = get({ host: '127.0.0.1', port, path: '/kettle', agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        try {
          resolve(JSON.parse(body) as Status);
        } catch (error) {
          reject(error as Error);
        }
      });
      response.on('error', reject);
    });
    // A frozen node accepts the connection (the kernel does) but never answers.
    request.setTimeout(timeoutMs, () => request.destroy(new Error('no answer')));
    request.on('error', reject);
  });
}

/** Asks every live node, every second, who it thinks is master: the sample's GET /kettle at work. */
export class StatusPoller {
  private timer?: NodeJS.Timeout;
  private readonly asking = new Set<string>();

  constructor(
    private readonly state: ClusterState,
    /** The report job's election, whose master the nodes are asked about. */
    private readonly election: string,
    private readonly everyMs = 1000,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.poll(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private poll(): void {
    for (const node of this.state.live()) {
      if (node.port === undefined || this.asking.has(node.id)) continue;
      this.asking.add(node.id);
      fetchStatus(node.port, this.everyMs * 0.8)
        .then(
          (status) => {
            node.seesMaster =
              status.elections.find((e) => e.name === this.election)?.master ?? 'nobody';
            node.answeredHttp = true;
          },
          () => (node.seesMaster = 'no answer'),
        )
        .finally(() => this.asking.delete(node.id));
    }
  }
}
