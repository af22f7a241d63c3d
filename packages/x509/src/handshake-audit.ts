/**
 * Audit records of mTLS handshakes: `handshake.completed` (allow) and `handshake.failed`
 * (deny, with the stable code and the precise reason), each carrying both SPIFFE ids:
 * the local one as `agent`, the peer's as the `peer` attribute.
 */
import { isBatonError, type AuditRecord, type AuditSink } from '@baton/core';

/** Which end of the connection wrote the record. */
export type HandshakeMode = 'client' | 'server';

/** Facts about one handshake. */
export interface HandshakeFacts {
  readonly mode: HandshakeMode;
  /** The local SPIFFE id, when the local end has one. */
  readonly local: string | undefined;
  /** The peer's SPIFFE id as presented (may be absent or unverified on failures). */
  readonly peer: string | undefined;
  /** Remote address (`ip:port`); audited only as a keyed hash. */
  readonly address?: string | undefined;
}

/** `handshake.completed` or `handshake.failed` for `facts` (failed when `error` is given). */
export function handshakeRecord(facts: HandshakeFacts, error?: unknown): AuditRecord {
  const attributes: Record<string, string> = { mode: facts.mode };
  if (facts.peer !== undefined) attributes['peer'] = facts.peer;
  if (facts.address !== undefined) attributes['client_ip'] = facts.address;
  const base = { source: `mtls:${facts.mode}`, ...(facts.local !== undefined ? { agent: facts.local } : {}), attributes };
  if (error === undefined) return { type: 'handshake.completed', outcome: 'allow', ...base };
  const code = isBatonError(error) ? error.code : 'ERR_UNAVAILABLE';
  const detail = isBatonError(error) ? error.detail : error instanceof Error ? error.message : 'handshake failed';
  return { type: 'handshake.failed', outcome: 'deny', reasonCode: code, reasonDetail: detail, ...base };
}

/** Emits without ever failing the connection: audit trouble is the sink's to report. */
export async function emitHandshake(audit: AuditSink | undefined, facts: HandshakeFacts, error?: unknown): Promise<void> {
  if (!audit) return;
  try {
    await audit.emit(handshakeRecord(facts, error));
  } catch {
    /* a durable sink spools; a failing one must not turn into a connection failure */
  }
}
