/** redis-leader 0.1.0 ships no types; this is the part of its API the bench uses. */
declare module 'redis-leader' {
  import type { EventEmitter } from 'node:events';

  interface LeaderOptions {
    key?: string;
    /** Lock time to live, ms; renewed every ttl / 2. */
    ttl?: number;
    /** Time between two tries to get elected, ms. */
    wait?: number;
  }

  class Leader extends EventEmitter {
    constructor(redis: unknown, options?: LeaderOptions);
    elect(): void;
    stop(): void;
    isLeader(done: (error: Error | null, isLeader?: boolean) => void): void;
  }

  export = Leader;
}
