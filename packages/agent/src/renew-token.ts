/**
 * One renewal round trip: Renew with the current token, then check the new token before
 * the agent runs on it. Renewal keeps the identity and never widens, and the agent holds
 * the authority to that even if the authority answers otherwise.
 */
import { BatonError, coversAll, parseScopes } from '@baton/core';
import type { Clock, Scope } from '@baton/core';
import { scopeToProto } from '@baton/proto';
import type { Client } from '@baton/proto';
import type { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { readTokenState } from './token-state.js';
import type { TokenState } from './token-state.js';

/** Inputs of {@link renewToken}. */
export interface RenewTokenInput {
  /** Client whose calls carry the current token (`before`) and a proof. */
  readonly issuer: Client<typeof IssuerService>;
  readonly before: TokenState;
  /** Narrowed scopes to ask for; undefined keeps the current ones. */
  readonly scopes: readonly (string | Scope)[] | undefined;
  /** Lifetime to ask for (0: the authority's default). */
  readonly ttlSeconds: number;
  readonly clock: Clock;
  readonly rpcTimeoutMs: number;
}

/**
 * Renews `before`. ERR_SCOPE_ESCALATION without any call when `scopes` asks for more than
 * is held; ERR_TOKEN_CLAIMS_INVALID / ERR_SCOPE_ESCALATION when the new token changed
 * identity or key, or widened.
 */
export async function renewToken(input: RenewTokenInput): Promise<TokenState> {
  const { before } = input;
  let narrowed: Scope[] = [];
  if (input.scopes !== undefined) {
    try {
      narrowed = parseScopes(input.scopes);
    } catch (err) {
      throw new TypeError('renew: scopes are not a valid list of scopes', { cause: err });
    }
    const check = coversAll(before.scopes, narrowed);
    if (!check.ok) throw new BatonError('ERR_SCOPE_ESCALATION', `renew would widen: ${check.reason}`);
  }
  const res = await input.issuer.renew(
    { scopes: narrowed.map(scopeToProto), requestedTtlSeconds: input.ttlSeconds },
    { deadlineMs: input.rpcTimeoutMs },
  );
  const next = readTokenState(res.accessToken, input.clock);
  if (next.spiffeId !== before.spiffeId || next.jkt !== before.jkt) {
    throw new BatonError('ERR_TOKEN_CLAIMS_INVALID', 'renewed token changed identity or key');
  }
  const widened = coversAll(before.scopes, next.scopes);
  if (!widened.ok) throw new BatonError('ERR_SCOPE_ESCALATION', `renewed token widened: ${widened.reason}`);
  return next;
}
