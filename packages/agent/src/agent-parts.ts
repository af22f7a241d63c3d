/**
 * What the facets of an agent (lifecycle, delegation, mTLS) share: its resolved options,
 * its key holder, its session, its identity channel, the channels to close on release,
 * and its event sink. Internal: an Agent keeps its parts in a private field and hands
 * them only to its own facets, which keep them in private fields too, so the key holder
 * is no more reachable from outside than when it sat in the Agent itself.
 */
import type { DescService } from '@bufbuild/protobuf';
import { BatonError } from '@baton/core';
import type { Client } from '@baton/proto';
import type { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { createAgentClient } from './agent-client.js';
import type { AgentEvent } from './agent-events.js';
import type { AgentKey } from './agent-key.js';
import type { ResolvedAgentOptions } from './options.js';
import type { AgentBootstrap } from './registration.js';
import { liveState, metadataHook } from './session.js';
import type { Session } from './session.js';
import type { TokenState } from './token-state.js';

/** Anything the agent closes when it is released (channels, servers). */
export interface Closable {
  close(): void;
}

/** The shared internals of one agent. Internal. */
export interface AgentParts {
  readonly options: ResolvedAgentOptions;
  /** The in-memory key holder; never stored anywhere public. */
  readonly key: AgentKey;
  readonly session: Session;
  /** Identity client on the agent's session (Heartbeat, RenewSvid, Publish, Resolve). */
  readonly identity: Client<typeof IdentityService>;
  emit(event: AgentEvent): void;
  /** The live token state, or the error that explains why there is none. */
  live(): TokenState;
  /** Last known state for read-only getters (valid even after release). */
  last(): TokenState;
  /** Closes `closable` when the agent is released. */
  track(closable: Closable): void;
  /** A client for `service` at `target` whose calls carry the agent's token and a fresh proof; tracked. */
  authedClient<S extends DescService>(service: S, target: string): Client<S>;
  /** Closes everything tracked (release). */
  closeAll(): void;
}

/** The parts of the agent `init` describes; `emit` delivers its background events. */
export function createAgentParts(init: AgentBootstrap, emit: (event: AgentEvent) => void): AgentParts {
  const { options, key, session, identity } = init;
  // Insertion order is closing order: the identity channel first, as it always was.
  const closables = new Set<Closable>([identity]);
  const track = (closable: Closable): void => {
    closables.add(closable);
  };
  return Object.freeze({
    options,
    key,
    session,
    identity,
    emit,
    live: () => liveState(session, options.clock.now()),
    last: () => {
      const s = session.state;
      if (!s) throw new BatonError('ERR_TOKEN_RELEASED', 'agent released');
      return s;
    },
    track,
    authedClient: <S extends DescService>(service: S, target: string): Client<S> => {
      const client = createAgentClient(service, target, metadataHook(key, session, options.clock), {
        credentials: options.credentials,
        defaultDeadlineMs: options.rpcTimeoutMs,
      });
      track(client);
      return client;
    },
    closeAll: () => {
      for (const c of closables) c.close();
      closables.clear();
    },
  });
}
