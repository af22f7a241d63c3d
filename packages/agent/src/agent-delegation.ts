/**
 * The delegation surface of an agent (issue 3), wired from its parts: what it publishes
 * as a delegation target, delegating from its own token, and adopting a child token a
 * delegator obtained for it. The hop signing and the child-token checks live in
 * delegate.ts; this file only connects them to the agent's key, session and channels.
 */
import type { DescService } from '@bufbuild/protobuf';
import type { Scope } from '@baton/core';
import type { Client } from '@baton/proto';
import { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import { createAgentClient } from './agent-client.js';
import type { MetadataFor } from './agent-client.js';
import type { AgentParts } from './agent-parts.js';
import { DelegatedToken, delegateFrom } from './delegate.js';
import type { DelegateeRef, DelegateOptions, DelegationGrant } from './delegate.js';

/** Delegation from and to one agent. Internal. */
export class AgentDelegation {
  readonly #parts: AgentParts;
  /** DelegationService channel, opened on first use. */
  #client: Client<typeof DelegationService> | undefined;

  constructor(parts: AgentParts) {
    this.#parts = parts;
  }

  /** See `Agent.delegationTarget`: public facts only. */
  get target(): DelegateeRef {
    return Object.freeze({ spiffeId: this.#parts.last().spiffeId, publicKey: this.#parts.key.publicJwk });
  }

  /** See `Agent.delegate`. Rejects (never throws) when the agent may no longer act. */
  delegate(to: DelegateeRef, scopes: readonly (string | Scope)[], options: DelegateOptions): Promise<DelegationGrant> {
    const { key, options: o } = this.#parts;
    let token: string;
    try {
      token = this.#parts.live().token;
    } catch (err) {
      return Promise.reject(err);
    }
    this.#client ??= this.#parts.authedClient(DelegationService, o.delegationTarget);
    const args = { key, token, client: this.#client, clock: o.clock, rpcTimeoutMs: o.rpcTimeoutMs };
    return delegateFrom(args, to, scopes, options);
  }

  /** See `Agent.adoptDelegatedToken`. */
  adopt(token: string): DelegatedToken {
    const parts = this.#parts;
    const o = parts.options;
    parts.live();
    return new DelegatedToken(token, {
      key: parts.key,
      spiffeId: parts.last().spiffeId,
      clock: o.clock,
      rpcTimeoutMs: o.rpcTimeoutMs,
      delegationTarget: o.delegationTarget,
      open: <S extends DescService>(service: S, target: string, metadataFor: MetadataFor): Client<S> => {
        parts.live();
        const client = createAgentClient(service, target, metadataFor, { credentials: o.credentials, defaultDeadlineMs: o.rpcTimeoutMs });
        parts.track(client);
        return client;
      },
    });
  }
}
