import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { MemoryStore } from 'nestjs-kettle';
import { NodeEvents } from '../node-events.js';
import type { Cluster, ClusterListener, NodeSettings } from './cluster.js';
import { InProcessNodeModule } from './in-process-node.module.js';
import { SeverableStore } from './severable-store.js';

interface Member {
  readonly app: INestApplication;
  readonly store: SeverableStore;
  closing?: Promise<void>;
}

/**
 * Every node is a Nest app inside the demo's process, on the memory store, which elects among the
 * nodes of one process only: the fallback when there is no Redis.
 */
export class InProcessCluster implements Cluster {
  readonly description = 'every node is a Nest app inside this process, on the memory store';
  // What the other nodes would see of SIGKILL and SIGSTOP.
  readonly caveat =
    'in one process, k cuts the master off the store and closes it; p cuts it off for a while';
  readonly pids: number[] = [];
  private readonly members = new Map<string, Member>();

  constructor(
    private readonly settings: NodeSettings,
    private readonly listener: ClusterListener,
  ) {}

  async add(nodeId: string): Promise<void> {
    const { keyPrefix, intervalMs, leaseMs, cron, elections } = this.settings;
    // Stores with one key prefix share their leases, as processes that share a Redis.
    const store = new SeverableStore(new MemoryStore(keyPrefix));
    const app = await NestFactory.create(
      InProcessNodeModule.forNode({ nodeId, store, intervalMs, leaseMs, cron, elections }),
      { logger: false, abortOnError: false },
    );
    this.members.set(nodeId, { app, store });
    this.listener.started(nodeId, process.pid);
    const events = app.get(NodeEvents);
    events.events$.subscribe((event) => this.listener.event(event));
    await app.listen(0, '127.0.0.1');
    events.ready((app.getHttpServer().address() as AddressInfo).port);
  }

  kill(nodeId: string): void {
    this.members.get(nodeId)?.store.sever();
    void this.close(nodeId, 'killed: cut off, then closed');
  }

  stop(nodeId: string): void {
    void this.close(nodeId, 'closed');
  }

  pause(nodeId: string): void {
    this.members.get(nodeId)?.store.sever();
  }

  resume(nodeId: string): void {
    this.members.get(nodeId)?.store.restore();
  }

  async shutdown(): Promise<void> {
    await Promise.all([...this.members.keys()].map((nodeId) => this.close(nodeId, 'closed')));
  }

  private close(nodeId: string, how: string): Promise<void> {
    const member = this.members.get(nodeId);
    if (!member) return Promise.resolve();
    member.closing ??= member.app
      .close()
      .then(() => member.store.close())
      .then(
        () => this.listener.exited(nodeId, how, []),
        (error: unknown) => this.listener.exited(nodeId, `${how}, with an error`, [String(error)]),
      )
      .finally(() => this.members.delete(nodeId));
    return member.closing;
  }
}
