import type { AuditRecord, AuditSink, Clock } from '@baton/core';
import type { SqlDatabase } from '@baton/store';
import type { KeyRing } from './key-ring.js';
import type { ResolvedTtl } from './options.js';
import type { RevocationRecord } from './revocation-model.js';
import type { RevocationNotifier } from './revocation-notifier.js';

/** @internal What every issuer operation works with (options resolved). */
export interface IssuerContext {
  readonly db: SqlDatabase;
  readonly keyRing: KeyRing;
  readonly clock: Clock;
  readonly issuer: string;
  readonly trustDomain: string;
  readonly ttl: ResolvedTtl;
  readonly leewaySeconds: number;
  readonly referenceThresholdBytes: number;
  readonly notifier: RevocationNotifier;
  readonly audit: AuditSink;
  readonly keepAliveMs: number;
  readonly subscriberBufferLimit: number;
  /** Aborted when the issuer closes: ends every open revocation stream. */
  readonly closing: AbortSignal;
  /** Reloads a ring shared by replicas on a request's unknown kid (rate-limited); false when not shared. */
  readonly refreshKeys: () => Promise<boolean>;
}

/** @internal Announces committed entries to subscribers; a failing notifier never fails the write. */
export async function announce(ctx: IssuerContext, entries: readonly RevocationRecord[]): Promise<void> {
  for (const e of entries) {
    try {
      await ctx.notifier.publish(e);
    } catch {
      // Subscribers still get it: their next keep-alive reads the store.
    }
  }
}

/** @internal Records a credential event; `source` is always `issuer`. */
export async function emitAudit(ctx: IssuerContext, record: AuditRecord): Promise<void> {
  await ctx.audit.emit({ source: 'issuer', ...record });
}
