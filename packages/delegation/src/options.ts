/**
 * Options of {@link createDelegation} and their defaults. Every default is the safe
 * choice: the delegator's token is checked online at the issuer, chains are as deep as
 * the hard cap at most, and nothing is kept longer than it can matter.
 */
import type { AccessTokenClaims, AuditSink, Clock, ErrorCode, KeyPair, Scope, ScopeRequest } from '@baton/core';
import type { Client } from '@baton/proto';
import type { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import type { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import type { SqlDatabase } from '@baton/store';
import type { ChainResolver } from './chain-verifier.js';

/** A guard check as the delegation service asks for it (a `@baton/guard` Guard fits). */
export interface GuardCheck {
  readonly token?: string | undefined;
  readonly proof?: string | undefined;
  readonly htm: string;
  readonly htu: string;
  readonly request?: ScopeRequest | undefined;
  readonly certificateThumbprint?: string | undefined;
  readonly route?: { readonly authenticateOnly?: boolean; readonly proof?: 'required' | 'bearer-allowed' } | undefined;
}

/** A guard decision (structurally `Decision` of `@baton/guard`). */
export type GuardVerdict =
  | {
      readonly allow: true;
      readonly claims: AccessTokenClaims;
      readonly scopes: readonly Scope[];
      readonly subject: string;
      readonly principal: string;
      readonly depth: number;
      readonly agents: readonly string[];
      readonly jkt?: string;
    }
  | { readonly allow: false; readonly code: ErrorCode; readonly reason: string };

/**
 * The enforcement point that authenticates delegators (`createGuard` of `@baton/guard`):
 * audience = the authority audience, with the issuer's revocation feed, and with
 * `chain: chainVerifier(...)` so delegatees can re-delegate.
 */
export interface DelegatorGuard {
  check(input: GuardCheck): Promise<GuardVerdict>;
}

/** Options of {@link createDelegation}. */
export interface DelegationOptions {
  /** Shared store; delegation keeps its own `delegation_` tables in it. */
  readonly db: SqlDatabase;
  /** The authority audience (the issuer's `iss`), e.g. `spiffe://baton.local/authority`. */
  readonly issuer: string;
  /** IssuerService over gRPC: signs child tokens (Issue), checks delegators online (Introspect). */
  readonly issuerClient: Client<typeof IssuerService>;
  /** IdentityService over gRPC: who the delegatee is (GetAgent), and the workflow's policy. */
  readonly identityClient: Client<typeof IdentityService>;
  /** Delegation's own key: in the issuer's `services` as `delegation`, and in identity's `services`. */
  readonly serviceKey: KeyPair;
  /** Authenticates delegators (DPoP) and serves Verify. */
  readonly guard: DelegatorGuard;
  /** Where `delegation.granted` / `delegation.denied` go. Default: records nothing. */
  readonly audit?: AuditSink;
  /** Injected time. Default: the system clock. */
  readonly clock?: Clock;
  /** Clock-skew tolerance, seconds. Default 30. */
  readonly leewaySeconds?: number;
  /** Ask the issuer (Introspect) whether the delegator's token is still live on every Delegate and Verify. Default true. */
  readonly onlineCheck?: boolean;
  /** Fetches by-reference chains of delegators that hold such tokens. Default: `resolveFromIssuer(issuerClient)`. */
  readonly resolveChain?: ChainResolver;
  /** How long chains and hops are kept after they expire (for audit look-ups), ms. Default 3 600 000. */
  readonly retentionMs?: number;
  /** Interval of the pruning timer, ms; 0 disables it (call `prune()`). Default 60 000. */
  readonly pruneIntervalMs?: number;
}

/** The defaults of {@link DelegationOptions}. */
export const DELEGATION_DEFAULTS = Object.freeze({
  leewaySeconds: 30,
  onlineCheck: true,
  retentionMs: 3_600_000,
  pruneIntervalMs: 60_000,
});

/** Checks the options (TypeError on a programming mistake). */
export function checkOptions(o: DelegationOptions): void {
  if (typeof o !== 'object' || o === null) throw new TypeError('createDelegation: options required');
  if (typeof o.db?.transaction !== 'function') throw new TypeError('createDelegation: db must be a SqlDatabase');
  if (typeof o.issuer !== 'string' || o.issuer.length === 0) throw new TypeError('createDelegation: issuer required');
  if (typeof o.issuerClient?.issue !== 'function') throw new TypeError('createDelegation: issuerClient must be an IssuerService client');
  if (typeof o.identityClient?.getAgent !== 'function') throw new TypeError('createDelegation: identityClient must be an IdentityService client');
  if (typeof o.serviceKey?.thumbprint !== 'string') throw new TypeError('createDelegation: serviceKey must be a KeyPair');
  if (typeof o.guard?.check !== 'function') throw new TypeError('createDelegation: guard required');
  for (const k of ['leewaySeconds', 'retentionMs', 'pruneIntervalMs'] as const) {
    const v = o[k];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 0)) throw new TypeError(`createDelegation: ${k} must be a non-negative integer`);
  }
}
