import { EventEmitter } from 'node:events';
import type { RevocationRecord } from './revocation-model.js';

/**
 * Fan-out of committed revocation entries to WatchRevocations subscribers. The issuer
 * publishes after the entry's transaction committed; subscribers must tolerate entries
 * arriving late, twice or out of order (the watcher dedupes by sequence and fills gaps
 * from the store). The in-process default reaches only this process; a cross-replica
 * implementation (PostgreSQL LISTEN/NOTIFY or Redis pub/sub) plugs in here.
 */
export interface RevocationNotifier {
  /** Announces a committed entry. Must not throw into the caller. */
  publish(entry: RevocationRecord): void | Promise<void>;
  /** Calls `listener` for every entry published (here or, cross-replica, elsewhere); returns an unsubscribe. */
  subscribe(listener: (entry: RevocationRecord) => void): () => void;
  /** Stops delivering and releases resources. */
  close(): Promise<void>;
}

/** An in-process {@link RevocationNotifier} over an EventEmitter. */
export function localRevocationNotifier(): RevocationNotifier {
  const emitter = new EventEmitter();
  // One listener per subscribed guard; their number is bounded by connections, not by this.
  emitter.setMaxListeners(0);
  return {
    publish(entry) {
      for (const listener of emitter.listeners('entry') as ((e: RevocationRecord) => void)[]) {
        try {
          listener(entry);
        } catch {
          // A broken subscriber must not stop the others or the writer.
        }
      }
    },
    subscribe(listener) {
      emitter.on('entry', listener);
      return () => emitter.off('entry', listener);
    },
    async close() {
      emitter.removeAllListeners();
    },
  };
}
