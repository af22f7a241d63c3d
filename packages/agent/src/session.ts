/**
 * The agent's mutable session (current token and lifecycle status), and the one rule for
 * whether it may still act: not after release, not after its token expired. Shared by the
 * Agent and by the metadata hook of every channel the agent opens.
 */
import { BatonError } from '@baton/core';
import type { Clock } from '@baton/core';
import { dpopMetadata } from '@baton/guard';
import type { MetadataFor } from './agent-client.js';
import type { AgentKey } from './agent-key.js';
import type { TokenState } from './token-state.js';

/** Lifecycle of an agent. */
export type AgentStatus = 'active' | 'expired' | 'released';

/** Current token and status. Internal. */
export interface Session {
  state: TokenState | undefined;
  status: AgentStatus;
}

/** Identity methods called before the agent has a token: they carry no credentials. */
const UNAUTHENTICATED: ReadonlySet<string> = new Set([
  '/baton.identity.v1.IdentityService/GetChallenge',
  '/baton.identity.v1.IdentityService/Register',
]);

/**
 * The token the agent may use now. Throws ERR_TOKEN_RELEASED after release and
 * ERR_TOKEN_EXPIRED once the token is past `exp` (by the agent's clock).
 */
export function liveState(session: Session, nowMs: number): TokenState {
  const state = session.state;
  if (session.status === 'released' || state === undefined) throw new BatonError('ERR_TOKEN_RELEASED', 'agent released');
  if (session.status === 'expired' || nowMs >= state.expiresAtMs) throw new BatonError('ERR_TOKEN_EXPIRED', 'agent token expired without renewal');
  return state;
}

/**
 * The metadata hook of every agent channel: nothing for the two registration calls, else
 * the current token and a fresh proof for this method.
 */
export function metadataHook(key: AgentKey, session: Session, clock: Clock): MetadataFor {
  return (path) => {
    if (UNAUTHENTICATED.has(path)) return undefined;
    const now = clock.now();
    return dpopMetadata(key.unsafeKeyPair(), liveState(session, now).token, path, now);
  };
}
