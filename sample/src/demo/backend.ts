import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { RedisServer } from '#tools/redis-server.js';
import { redactUrl } from './format.js';
import { deleteKeys, redisAnswers } from './redis-tools.js';

/** Where the nodes keep their leases, and what to undo at the end. */
export interface Backend {
  readonly kind: 'redis' | 'private-redis' | 'memory';
  /** The Redis the nodes use; undefined on the memory store. */
  readonly url?: string;
  /** The private redis-server's process id. */
  readonly pid?: number;
  /** One line for the user: where the leases live and why. */
  readonly description: string;
  /** Undoes what the demo did: stops the private redis-server, or deletes the demo's keys. */
  close(keyPrefix: string): Promise<void>;
}

export const GET_REDIS = `For the real thing (nodes as separate processes on Redis), start a Redis on 127.0.0.1:6379
(docker run --rm -p 6379:6379 redis, or: apt install redis-server / brew install redis) or set REDIS_URL.`;

/** The Redis at `redisUrl` if it answers, else a private redis-server, else the memory store. */
export async function chooseBackend(redisUrl: string): Promise<Backend> {
  const shown = redactUrl(redisUrl);
  if (await redisAnswers(redisUrl)) {
    return {
      kind: 'redis',
      url: redisUrl,
      description: `Redis at ${shown} (from REDIS_URL or the default)`,
      close: async (keyPrefix) => void (await deleteKeys(redisUrl, keyPrefix)),
    };
  }
  const executable = findOnPath('redis-server');
  if (executable) {
    // A process group of its own: a Ctrl-C in the terminal reaches the demo, which stops it last.
    const redis = await RedisServer.start({ command: executable, detached: true });
    return {
      kind: 'private-redis',
      url: redis.url,
      pid: redis.pid,
      description:
        `no Redis answered at ${shown}, so the demo started its own redis-server ` +
        `on port ${redis.port} (pid ${redis.pid}); it stops with the demo`,
      close: () => redis.kill(),
    };
  }
  return {
    kind: 'memory',
    description:
      `no Redis answered at ${shown} and there is no redis-server on PATH, so the nodes run ` +
      `inside this process on the memory store.\n${GET_REDIS}`,
    close: async () => undefined,
  };
}

/** The path of `name` if it is an executable in a directory of PATH. */
export function findOnPath(name: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return join(dir, name);
    } catch {
      // not here
    }
  }
  return undefined;
}
