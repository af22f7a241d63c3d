/**
 * What happens in an agent's background (renewal, heartbeats, release), delivered to
 * listeners that can never break the loop that reports it.
 */
import type { ErrorCode } from '@baton/core';
import type { AgentTaskState } from './heartbeat.js';

/** Something that happened in the background. Times are ms since the epoch. */
export type AgentEvent =
  | { readonly type: 'renewed'; readonly expiresAt: number; readonly renewals: number }
  /** `retryAt` is undefined once the SDK gave up (the token then only waits to expire). */
  | { readonly type: 'renewal-failed'; readonly code: ErrorCode; readonly retryAt: number | undefined }
  | { readonly type: 'expired' }
  | { readonly type: 'heartbeat'; readonly state: AgentTaskState }
  | { readonly type: 'heartbeat-failed'; readonly code: ErrorCode }
  | { readonly type: 'released' };

/** Listener registry. Internal. */
export class EventHub {
  readonly #listeners = new Set<(event: AgentEvent) => void>();

  on(listener: (event: AgentEvent) => void): () => void {
    if (typeof listener !== 'function') throw new TypeError('listener must be a function');
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  emit(event: AgentEvent): void {
    for (const l of this.#listeners) {
      try {
        l(event);
      } catch {
        // A listener's bug must not stop renewal or release.
      }
    }
  }
}
