/**
 * The audit event model: what sources submit ({@link AuditEventInput}), what the log
 * stores after validation and sanitizing ({@link AuditEventFields}), and a chained log
 * entry ({@link AuditEntry}). Field meanings follow DESIGN.md §8 and audit.proto.
 */
import type { AuditRecord } from '@baton/core';
import type { AuditEventType, AuditOutcome } from './event-types.js';

/**
 * One event as a source submits it: an {@link AuditRecord} (the fields every component
 * reports) plus its idempotency key and source time. Optional fields default to empty / zero.
 */
export interface AuditEventInput extends Omit<AuditRecord, 'type' | 'outcome' | 'source'> {
  /** Idempotency key, 16–64 chars of `[A-Za-z0-9_-]`. */
  readonly eventId: string;
  /** Unix milliseconds at the source. */
  readonly time: number;
  readonly type: string;
  /** Emitting component, e.g. `issuer`, `guard:payments`. */
  readonly source: string;
  /** Defaults to the first outcome allowed for the type. */
  readonly outcome?: AuditOutcome;
  /** Aggregated reads: how many (≥ 2), and the first and last time. */
  readonly count?: number;
  readonly firstTime?: number;
  readonly lastTime?: number;
}

/** An event with every field present: validated input, and (after sanitizing) the stored form. */
export interface AuditEventFields {
  readonly eventId: string;
  readonly time: number;
  readonly type: AuditEventType;
  readonly source: string;
  readonly outcome: AuditOutcome;
  readonly agent: string;
  readonly task: string;
  readonly orchestration: string;
  readonly workflow: string;
  /** Stored form: `kh:` + HMAC-SHA-256 (base64url), or empty. */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  readonly reasonCode: string;
  readonly reasonDetail: string;
  readonly delegationDepth: number;
  readonly chainHash: string;
  readonly intermediateAgents: readonly string[];
  readonly traceId: string;
  readonly spanId: string;
  readonly requestBytes: number;
  readonly tokenBytes: number;
  readonly attributes: Readonly<Record<string, string>>;
  /** 1 for a single event. */
  readonly count: number;
  /** 0 unless aggregated. */
  readonly firstTime: number;
  readonly lastTime: number;
}

/** One entry of the log: a stored event, its position and its links. */
export interface AuditEntry {
  /** 1-based and gap-free; the Merkle leaf index is `sequence - 1`. */
  readonly sequence: number;
  /** Unix ms when the log accepted it. */
  readonly loggedAt: number;
  /** The previous entry's event hash (64 zeros for the first entry). */
  readonly prevHash: string;
  /** Hex SHA-256 of the canonical encoding of everything above and the event. */
  readonly eventHash: string;
  readonly event: AuditEventFields;
}
