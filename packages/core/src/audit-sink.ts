/**
 * The contract between Baton components that produce audit events and the audit client
 * that records them. Components depend on this interface only; `@baton/audit` provides
 * the durable implementation (local spool + AuditService).
 */

/** Outcome of the recorded event. */
export type AuditOutcome = 'allow' | 'deny' | 'info';

/** One event as a component reports it. The sink sanitizes, stamps and chains it. */
export interface AuditRecord {
  /** Event type, e.g. `token.issued`, `validation.denied`. */
  readonly type: string;
  readonly outcome: AuditOutcome;
  /** Emitting component, e.g. `issuer`, `guard:payments`. Filled by the sink when absent. */
  readonly source?: string;
  /** SPIFFE id of the agent instance concerned. */
  readonly agent?: string;
  readonly task?: string;
  readonly orchestration?: string;
  readonly workflow?: string;
  /** Raw principal; the sink stores only a keyed hash. */
  readonly principal?: string;
  readonly action?: string;
  readonly resource?: string;
  /** Stable error code for denials. */
  readonly reasonCode?: string;
  /** The precise why-denied (never sent to callers). */
  readonly reasonDetail?: string;
  readonly delegationDepth?: number;
  readonly chainHash?: string;
  readonly intermediateAgents?: readonly string[];
  /** Filled from the active OpenTelemetry span when absent. */
  readonly traceId?: string;
  readonly spanId?: string;
  readonly requestBytes?: number;
  readonly tokenBytes?: number;
  /** Allowlisted keys only; values are sanitized by the sink. */
  readonly attributes?: Readonly<Record<string, string>>;
}

/**
 * Where components send audit events. `emit` resolves once the event is durable (or
 * rejects with ERR_AUDIT_UNAVAILABLE when it cannot be made durable).
 */
export interface AuditSink {
  emit(record: AuditRecord): Promise<void>;
}

/** A sink that records nothing; for embedding Baton pieces where audit is not wanted. */
export const noopAuditSink: AuditSink = Object.freeze({ emit: async () => undefined });
