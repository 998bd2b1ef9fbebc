import type { ResolvedKettleOptions } from '../kettle-options.js';
import type { KettleStore } from './kettle-store.interface.js';
import { MemoryStore } from './memory.store.js';
import { QuorumStore } from './quorum.store.js';
import { RedisStore } from './redis.store.js';

/** The store the resolved options name; connection problems go to `onError` (logged, never thrown). */
export function createStore(
  options: ResolvedKettleOptions,
  onError: (where: string, error: Error) => void,
): KettleStore {
  const { store, keyPrefix } = options;
  if (store.kind === 'custom') return store.store;
  if (store.kind === 'memory') return new MemoryStore(keyPrefix);
  if (store.kind === 'quorum') {
    const { connections } = store;
    return new QuorumStore({ connections, keyPrefix, clientName: options.nodeId, onError });
  }
  return new RedisStore({
    connection: store.connection,
    keyPrefix,
    clientName: options.nodeId,
    onError,
  });
}
