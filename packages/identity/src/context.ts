/**
 * What every identity handler shares: the store, the clock, the audit sink, the issuer
 * client and the resolved options. Built once by {@link createIdentity}.
 */
import type { AuditRecord, AuditSink, Clock, KeyPair, ReplayCache } from '@baton/core';
import type { Guard } from '@baton/guard';
import type { Client, IssuerService } from './proto.js';
import type { SqlDatabase } from '@baton/store';
import type { ChallengeStore } from './challenges.js';
import type { IdentityCa } from './identity-ca.js';
import type { IdentityMeter, ResolvedLimits } from './options.js';

/** Shared state of one identity service instance. Internal. */
export interface IdentityContext {
  readonly db: SqlDatabase;
  readonly clock: Clock;
  readonly audit: AuditSink;
  readonly meter: IdentityMeter;
  readonly trustDomain: string;
  readonly issuer: string;
  readonly issuerClient: Client<typeof IssuerService>;
  readonly serviceKey: KeyPair;
  readonly operators: ReadonlyMap<string, string>;
  /** Baton service key thumbprints → service name (GetAgent callers). */
  readonly services: ReadonlyMap<string, string>;
  readonly guard: Guard;
  readonly limits: ResolvedLimits;
  readonly challenges: ChallengeStore;
  /** Replay cache for operator and orchestrator key proofs. */
  readonly proofReplay: ReplayCache;
  /** The identity CA, when SVIDs are issued. */
  readonly ca?: IdentityCa | undefined;
  readonly logAuthorities: readonly string[];
}

/** Emits an audit record stamped with identity as its source. */
export function emit(ctx: IdentityContext, record: AuditRecord): Promise<void> {
  return ctx.audit.emit({ source: 'identity', ...record });
}
