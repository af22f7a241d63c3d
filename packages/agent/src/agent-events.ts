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
  | { readonly type: 'released' }
  /** The X.509-SVID was rotated; `notAfter` of the new one. */
  | { readonly type: 'svid-renewed'; readonly notAfter: number }
  /** `retryAt` is undefined once the SDK gave up (the SVID then only waits to expire). */
  | { readonly type: 'svid-renewal-failed'; readonly code: ErrorCode; readonly retryAt: number | undefined };

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
