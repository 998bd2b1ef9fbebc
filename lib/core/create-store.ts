import type { ResolvedKettleOptions } from './options/resolve-options.js';
import type { KettleStore } from './store/kettle-store.interface.js';
import { MemoryStore } from './store/memory.store.js';
import { QuorumStore } from './store/quorum.store.js';
import { RedisStore } from './store/redis.store.js';

/**
 * The store the resolved options name; connection problems go to `onError` and a server set up in
 * a way that endangers leases to `onWarning` (logged, never thrown).
 */
export function createStore(
  options: ResolvedKettleOptions,
  onError: (where: string, error: Error) => void,
  onWarning: (message: string) => void,
): KettleStore {
  const { store, keyPrefix } = options;
  if (store.kind === 'custom') return store.store;
  if (store.kind === 'memory') return new MemoryStore(keyPrefix);
  const clientName = options.nodeId;
  if (store.kind === 'quorum') {
    const { connections } = store;
    return new QuorumStore({ connections, keyPrefix, clientName, onError, onWarning });
  }
  return new RedisStore({
    connection: store.connection,
    keyPrefix,
    clientName,
    onError,
    onWarning,
  });
}
