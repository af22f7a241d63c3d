/**
 * What may reach storage. Attributes pass an allowlist (others are dropped and
 * counted); free-text attributes and the principal are stored only as keyed hashes
 * (HMAC-SHA-256 under the log's sanitizer key, so equal values still correlate); every
 * other text field goes through the secret/PII detectors.
 */
import { keyedHash } from '@baton/core';
import type { AuditEventFields } from './event.js';
import { redactSensitive, type SensitiveKind } from './pii-detectors.js';

/** How an allowlisted attribute is stored: as-is after redaction, or as a keyed hash. */
export type AttributePolicy = 'keep' | 'hash';

/** Attributes Baton's own components emit, and how each is stored. */
export const DEFAULT_ATTRIBUTE_POLICY: Readonly<Record<string, AttributePolicy>> = Object.freeze({
  method: 'keep',
  status: 'keep',
  grpc_code: 'keep',
  http_status: 'keep',
  scope: 'keep',
  requested_scope: 'keep',
  granted_scope: 'keep',
  audience: 'keep',
  kid: 'keep',
  serial: 'keep',
  jti: 'keep',
  jkt: 'keep',
  token_ref: 'keep',
  renewal: 'keep',
  ttl_s: 'keep',
  expires_at: 'keep',
  revocation_kind: 'keep',
  anomaly: 'keep',
  peer: 'keep',
  policy: 'keep',
  hop: 'keep',
  delegator: 'keep',
  delegatee: 'keep',
  key_kind: 'keep',
  mode: 'keep',
  decision_us: 'keep',
  // Free text and network identifiers: correlatable, never readable.
  path: 'hash',
  query: 'hash',
  url: 'hash',
  user_agent: 'hash',
  client_ip: 'hash',
  prompt: 'hash',
  message: 'hash',
  input: 'hash',
  output: 'hash',
  note: 'hash',
});

/** Options of {@link createSanitizer}. */
export interface SanitizerOptions {
  /** HMAC key for principals and hashed attributes; at least 32 bytes, kept secret. */
  readonly key: Uint8Array;
  /** Allowlisted attribute keys. Default {@link DEFAULT_ATTRIBUTE_POLICY}. */
  readonly attributes?: Readonly<Record<string, AttributePolicy>>;
}

/** Result of sanitizing one event. */
export interface SanitizedEvent {
  readonly event: AuditEventFields;
  /** Kinds of secrets/PII redacted. */
  readonly redacted: readonly SensitiveKind[];
  /** Attribute keys dropped because they are not allowlisted. */
  readonly droppedAttributes: readonly string[];
}

/** Turns a validated event into its stored form. */
export interface Sanitizer {
  sanitize(event: AuditEventFields): SanitizedEvent;
  /** The stored form of a principal (for querying by principal). */
  principalHash(principal: string): string;
}

const SPIFFE_LIKE = /^spiffe:\/\/[a-z0-9._-]{1,255}(?:\/[A-Za-z0-9._-]+)*$/;

/** Prefix of keyed-hash values, so readers know the value is not the original. */
export const KEYED_HASH_PREFIX = 'kh:';

/**
 * Creates a sanitizer.
 *
 * @example
 * const s = createSanitizer({ key: sanitizerKey });
 * s.sanitize(validateEvent(input)).event.principal // 'kh:…'
 */
export function createSanitizer(options: SanitizerOptions): Sanitizer {
  if (!(options.key instanceof Uint8Array) || options.key.length < 32) throw new TypeError('sanitizer key must be at least 32 bytes');
  const key = Uint8Array.from(options.key);
  const policy = options.attributes ?? DEFAULT_ATTRIBUTE_POLICY;
  const hash = (v: string): string => (v === '' ? '' : KEYED_HASH_PREFIX + keyedHash(key, v));

  return {
    principalHash: hash,
    sanitize(e) {
      const redacted: SensitiveKind[] = [];
      const clean = (v: string): string => {
        if (v === '') return v;
        const r = redactSensitive(v);
        redacted.push(...r.found);
        return r.value;
      };
      // Well-formed SPIFFE ids are identifiers, not free text: kept whole.
      const cleanId = (v: string): string => (SPIFFE_LIKE.test(v) ? v : clean(v));
      const droppedAttributes: string[] = [];
      const attributes: Record<string, string> = {};
      for (const [k, v] of Object.entries(e.attributes)) {
        const p = Object.prototype.hasOwnProperty.call(policy, k) ? policy[k] : undefined;
        if (p === 'keep') attributes[k] = clean(v);
        else if (p === 'hash') attributes[k] = hash(v);
        else droppedAttributes.push(k);
      }
      const event: AuditEventFields = {
        ...e,
        agent: cleanId(e.agent),
        task: clean(e.task),
        orchestration: clean(e.orchestration),
        workflow: clean(e.workflow),
        principal: hash(e.principal),
        action: clean(e.action),
        resource: clean(e.resource),
        reasonDetail: clean(e.reasonDetail),
        intermediateAgents: e.intermediateAgents.map(cleanId),
        attributes,
      };
      return { event, redacted, droppedAttributes };
    },
  };
}
