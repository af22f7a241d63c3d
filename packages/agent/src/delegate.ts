/**
 * Delegation from the agent's side (issue 3).
 *
 * The delegator: `agent.delegate(to, scopes, { ttl })` signs a hop with the agent's own
 * key (naming the delegatee and the delegatee's public key) and sends it to
 * DelegationService with the agent's token and a proof; the service answers with the
 * child token, bound to the DELEGATEE's key.
 *
 * The delegatee: it gives its delegator `agent.delegationTarget` (SPIFFE id and public
 * key; nothing secret), receives the child token over whatever call the two agents
 * share, and adopts it with `agent.adoptDelegatedToken(token)`. The adopted token is used
 * with the delegatee's own key, like its own token: `client()`, `callMetadata()`, and
 * `delegate()` again when policy allows re-delegation. Nobody else can use it: every
 * request needs a proof signed by the key the token is bound to.
 */
import type { DescService } from '@bufbuild/protobuf';
import {
  BatonError,
  decodeJws,
  isBatonError,
  nextHopClaims,
  parseAccessTokenClaims,
  parseScopes,
  parseSpiffeId,
  publicJwkOf,
  importPublicJwk,
  scopesOfClaims,
  signHop,
  type AccessTokenClaims,
  type Clock,
  type PublicJwk,
  type Scope,
} from '@baton/core';
import type { Client } from '@baton/proto';
import { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import { dpopMetadata } from '@baton/guard';
import type { MetadataFor } from './agent-client.js';
import type { AgentKey } from './agent-key.js';
import { assertMethodPath, type CallMetadata } from './call-metadata.js';

/** Who to delegate to: what the delegatee publishes as `agent.delegationTarget`. */
export interface DelegateeRef {
  /** The delegatee's SPIFFE id. */
  readonly spiffeId: string;
  /** Its public key (the JWK, or its `x`): the child token is bound to it. */
  readonly publicKey: PublicJwk | string;
}

/** Options of `agent.delegate`. */
export interface DelegateOptions {
  /** Lifetime of the delegation, seconds; never beyond the delegator's own token. Default: the rest of that token's lifetime. */
  readonly ttl?: number;
}

/** What a delegation produced: the child token to hand to the delegatee. */
export interface DelegationGrant {
  /** The child access token, bound to the delegatee's key (useless to anyone else). */
  readonly token: string;
  readonly delegatee: string;
  readonly scopes: readonly Scope[];
  readonly depth: number;
  readonly chainHash: string;
  /** The hop just recorded (what a HOP revocation targets). */
  readonly hopHash: string;
  /** ms since the epoch. */
  readonly expiresAt: number;
  readonly grantedTtlSeconds: number;
}

/** What {@link delegateFrom} needs from the agent. Internal. */
export interface DelegateArgs {
  readonly key: AgentKey;
  /** The token the authority is delegated from (the agent's own, or an adopted one). */
  readonly token: string;
  readonly client: Client<typeof DelegationService>;
  readonly clock: Clock;
  readonly rpcTimeoutMs: number;
}

function keyX(k: unknown): string {
  try {
    return publicJwkOf(importPublicJwk(typeof k === 'string' ? { kty: 'OKP', crv: 'Ed25519', x: k } : k)).x;
  } catch {
    throw new TypeError('delegate: to.publicKey must be an Ed25519 public JWK or its x');
  }
}

function claimsOf(token: string): AccessTokenClaims {
  try {
    return parseAccessTokenClaims(decodeJws(token).payload);
  } catch (err) {
    throw new BatonError('ERR_TOKEN_MALFORMED', `not a Baton access token: ${isBatonError(err) ? err.code : 'error'}`);
  }
}

/**
 * Signs a hop from `args.token` to `to` and asks DelegationService for the child token.
 * Programming mistakes (malformed target, scopes or ttl) are TypeErrors. Asking for more
 * than the token holds is sent all the same: the service refuses it (ERR_SCOPE_ESCALATION)
 * and the attempt lands in the audit log, where an escalation attempt belongs.
 */
export async function delegateFrom(args: DelegateArgs, to: DelegateeRef, scopes: readonly (string | Scope)[], options: DelegateOptions = {}): Promise<DelegationGrant> {
  if (typeof to !== 'object' || to === null) throw new TypeError('delegate: to must be { spiffeId, publicKey } (the delegatee\'s agent.delegationTarget)');
  try {
    parseSpiffeId(to.spiffeId);
  } catch {
    throw new TypeError('delegate: to.spiffeId must be a SPIFFE id');
  }
  const toKey = keyX(to.publicKey);
  let requested: Scope[];
  try {
    requested = parseScopes(scopes);
  } catch (err) {
    throw new TypeError('delegate: scopes must be a non-empty list of valid scopes', { cause: err });
  }
  if (requested.length === 0) throw new TypeError('delegate: scopes must be a non-empty list of valid scopes');
  const ttl = options.ttl;
  if (ttl !== undefined && (!Number.isSafeInteger(ttl) || ttl <= 0)) throw new TypeError('delegate: ttl must be a positive integer (seconds)');

  const claims = claimsOf(args.token);
  const now = Math.floor(args.clock.now() / 1000);
  const exp = Math.min(claims.exp, ttl === undefined ? claims.exp : now + ttl);
  const hop = signHop(
    nextHopClaims({ token: args.token, claims, holderKey: args.key.publicJwk.x, to: to.spiffeId, toKey, scopes: requested, exp }),
    args.key.unsafeKeyPair(),
  );
  const res = await args.client.delegate({ hop }, { deadlineMs: args.rpcTimeoutMs });
  return Object.freeze({
    token: res.accessToken,
    delegatee: to.spiffeId,
    scopes: Object.freeze(requested),
    depth: res.depth,
    chainHash: res.chainHash,
    hopHash: res.hopHash,
    expiresAt: Number(res.expiresAt) * 1000,
    grantedTtlSeconds: res.grantedTtlSeconds,
  });
}

/** What {@link DelegatedToken} needs from the agent that adopted it. Internal. */
export interface AdoptArgs {
  readonly key: AgentKey;
  readonly spiffeId: string;
  readonly clock: Clock;
  readonly rpcTimeoutMs: number;
  /** Opens a client whose calls carry `metadataFor`'s credentials (closed with the agent). */
  readonly open: <S extends DescService>(service: S, target: string, metadataFor: MetadataFor) => Client<S>;
  /** DelegationService target, for re-delegation. */
  readonly delegationTarget: string;
}

/**
 * A child token this agent received from a delegator, used with this agent's key.
 * Create it with `agent.adoptDelegatedToken(token)`.
 *
 * @example
 * const payments = intern.adoptDelegatedToken(tokenFromManager).client(PaymentsService, 'payments:9000');
 * await payments.approve({ invoice: 'inv-7', amount: 4000 });
 */
export class DelegatedToken {
  readonly #token: string;
  readonly #claims: AccessTokenClaims;
  readonly #args: AdoptArgs;
  #delegation: Client<typeof DelegationService> | undefined;

  /** Checks that `token` is a delegated token for this very agent (its SPIFFE id and key). */
  constructor(token: string, args: AdoptArgs) {
    if (typeof token !== 'string' || token.length === 0) throw new TypeError('adoptDelegatedToken: token must be a string');
    const claims = claimsOf(token);
    if (claims.del === undefined) throw new BatonError('ERR_CHAIN_INVALID', 'not a delegated token');
    if (claims.sub !== args.spiffeId) throw new BatonError('ERR_TOKEN_CLAIMS_INVALID', `token is for ${claims.sub}, not this agent`);
    if (claims.cnf.jkt !== args.key.thumbprint) throw new BatonError('ERR_CHAIN_KEY_MISMATCH', 'token is bound to another key');
    this.#token = token;
    this.#claims = claims;
    this.#args = args;
    this.token(); // refuse one that already expired
  }

  /** The child token. Throws ERR_TOKEN_EXPIRED once past its `exp` (delegated tokens are not renewed). */
  token(): string {
    if (this.#args.clock.now() >= this.#claims.exp * 1000) throw new BatonError('ERR_TOKEN_EXPIRED', 'delegated token expired');
    return this.#token;
  }

  /** What it permits. */
  get scopes(): readonly Scope[] {
    return scopesOfClaims(this.#claims);
  }

  /** ms since the epoch. */
  get expiresAt(): number {
    return this.#claims.exp * 1000;
  }

  get depth(): number {
    return this.#claims.del!.d;
  }

  /** The original principal. */
  get principal(): string {
    return this.#claims.principal;
  }

  /** Credentials for one gRPC call to `method` with this token and a fresh proof. */
  callMetadata(method: string): CallMetadata {
    const path = assertMethodPath(method);
    const md = dpopMetadata(this.#args.key.unsafeKeyPair(), this.token(), path, this.#args.clock.now());
    return { authorization: md['authorization']!, dpop: md['dpop']! };
  }

  /** A typed client whose every call carries this token and a fresh proof by this agent's key. */
  client<S extends DescService>(service: S, target: string): Client<S> {
    if (typeof target !== 'string' || target.length === 0) throw new TypeError('client: target required');
    this.token();
    return this.#args.open(service, target, (path) => dpopMetadata(this.#args.key.unsafeKeyPair(), this.token(), path, this.#args.clock.now()));
  }

  /** Re-delegates from this token (when the workflow allows re-delegation). See `Agent.delegate`. */
  delegate(to: DelegateeRef, scopes: readonly (string | Scope)[], options: DelegateOptions = {}): Promise<DelegationGrant> {
    const token = this.token();
    this.#delegation ??= this.client(DelegationService, this.#args.delegationTarget);
    return delegateFrom({ key: this.#args.key, token, client: this.#delegation, clock: this.#args.clock, rpcTimeoutMs: this.#args.rpcTimeoutMs }, to, scopes, options);
  }

  /** Public facts only: never the token. */
  toJSON(): Record<string, unknown> {
    return { sub: this.#claims.sub, depth: this.depth, principal: this.principal, expiresAt: this.expiresAt };
  }
}
