/**
 * The hash chain: `event_hash = SHA-256(canonical JSON of the entry)`, where the entry
 * includes its sequence, acceptance time and `prev_hash`, so moving, editing or
 * re-linking an entry changes its hash. The Merkle leaf of an entry is its event hash
 * (leaf hash `SHA-256(0x00 || event_hash)`).
 */
import crypto from 'node:crypto';
import { canonicalJson, sha256Hex } from '@baton/core';
import type { AuditEntry, AuditEventFields } from './event.js';
import { hashLeaf } from './merkle-hash.js';

/** `prev_hash` of the first entry. */
export const ZERO_HASH = '0'.repeat(64);

/** Version tag inside the hashed encoding, so a future format cannot collide with this one. */
export const ENTRY_FORMAT_VERSION = 1;

/** The hashed object of an entry: snake_case field names, every field present. */
export function entryHashInput(entry: Omit<AuditEntry, 'eventHash'>): Record<string, unknown> {
  const e = entry.event;
  return {
    v: ENTRY_FORMAT_VERSION,
    sequence: entry.sequence,
    logged_at: entry.loggedAt,
    prev_hash: entry.prevHash,
    event_id: e.eventId,
    time: e.time,
    type: e.type,
    source: e.source,
    outcome: e.outcome,
    agent: e.agent,
    task: e.task,
    orchestration: e.orchestration,
    workflow: e.workflow,
    principal: e.principal,
    action: e.action,
    resource: e.resource,
    reason_code: e.reasonCode,
    reason_detail: e.reasonDetail,
    delegation_depth: e.delegationDepth,
    chain_hash: e.chainHash,
    intermediate_agents: e.intermediateAgents,
    trace_id: e.traceId,
    span_id: e.spanId,
    request_bytes: e.requestBytes,
    token_bytes: e.tokenBytes,
    attributes: e.attributes,
    count: e.count,
    first_time: e.firstTime,
    last_time: e.lastTime,
  };
}

/**
 * The exact string that is hashed for an entry: `canonicalJson(entryHashInput(entry))`.
 *
 * Hot path (every append and every entry of a verification), so it is written out for
 * this fixed shape, keys already in canonical (UTF-16) order, instead of walking an
 * object generically; a property test checks it equals core's `canonicalJson`.
 */
export function canonicalEntry(entry: Omit<AuditEntry, 'eventHash'>): string {
  const e = entry.event;
  const q = jsonString;
  return (
    `{"action":${q(e.action)},"agent":${q(e.agent)},"attributes":${canonicalAttributes(e.attributes)},"chain_hash":${q(e.chainHash)}` +
    `,"count":${num(e.count)},"delegation_depth":${num(e.delegationDepth)},"event_id":${q(e.eventId)},"first_time":${num(e.firstTime)}` +
    `,"intermediate_agents":${canonicalAgents(e.intermediateAgents)},"last_time":${num(e.lastTime)},"logged_at":${num(entry.loggedAt)}` +
    `,"orchestration":${q(e.orchestration)},"outcome":${q(e.outcome)},"prev_hash":${q(entry.prevHash)},"principal":${q(e.principal)}` +
    `,"reason_code":${q(e.reasonCode)},"reason_detail":${q(e.reasonDetail)},"request_bytes":${num(e.requestBytes)},"resource":${q(e.resource)}` +
    `,"sequence":${num(entry.sequence)},"source":${q(e.source)},"span_id":${q(e.spanId)},"task":${q(e.task)},"time":${num(e.time)}` +
    `,"token_bytes":${num(e.tokenBytes)},"trace_id":${q(e.traceId)},"type":${q(e.type)},"v":${ENTRY_FORMAT_VERSION},"workflow":${q(e.workflow)}}`
  );
}

// Strings JSON.stringify would emit unchanged between quotes: no quote, backslash, control
// character or surrogate (a lone one is escaped). Testing for them is about twice as fast
// as JSON.stringify on the short strings of an entry; the rest take JSON.stringify.
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/**
 * `JSON.stringify(s)`, faster for the common plain strings. Anything else (including a
 * non-string smuggled into an untrusted entry) takes JSON.stringify, so the text is the same.
 */
export function jsonString(s: string): string {
  return typeof s === 'string' && PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

// Valid entries only hold safe integers (validated); a tampered row may decode to NaN,
// which then simply fails to match its hash.
const num = (n: number): string => String(n);

// The usual empty list without the generic encoder (anything else, even a non-array in an
// untrusted entry, goes through it).
const canonicalAgents = (a: readonly string[]): string => (Array.isArray(a) && a.length === 0 ? '[]' : canonicalJson(a));

/** Canonical JSON of an attribute map (keys sorted by UTF-16 code units, as canonicalJson sorts them). */
export function canonicalAttributes(attrs: Readonly<Record<string, string>>): string {
  const keys = Object.keys(attrs);
  if (keys.length === 0) return '{}';
  keys.sort();
  let out = '';
  for (let i = 0; i < keys.length; i++) out += `${i === 0 ? '{' : ','}${jsonString(keys[i]!)}:${jsonString(attrs[keys[i]!]!)}`;
  return `${out}}`;
}

// crypto.hash (Node >= 20.12) digests straight to hex, without a Hash object or a Buffer.
const hasOneShot = typeof crypto.hash === 'function';
const oneShotHex: ((s: string) => string) | undefined = hasOneShot ? (s) => crypto.hash('sha256', s, 'hex') : undefined;

/** Hex event hash of an entry (whatever its stored `eventHash` claims). */
export function computeEventHash(entry: Omit<AuditEntry, 'eventHash'>): string {
  return hashCanonicalEntry(canonicalEntry(entry));
}

/** Hex SHA-256 of an entry's canonical text (as {@link canonicalEntry} returns it). */
export function hashCanonicalEntry(text: string): string {
  return oneShotHex ? oneShotHex(text) : sha256Hex(text);
}

/** Builds the chained entry for an event at `sequence` after `prevHash`. */
export function sealEntry(event: AuditEventFields, sequence: number, prevHash: string, loggedAt: number): AuditEntry {
  const partial = { sequence, loggedAt, prevHash, event };
  return { ...partial, eventHash: computeEventHash(partial) };
}

/** The Merkle leaf hash of an entry: `SHA-256(0x00 || event hash bytes)`. */
export function leafHashOf(eventHashHex: string): Buffer {
  // Decoded into a reusable buffer after the 0x00 prefix (one hash per verified entry);
  // anything but 64 hex digits takes the general path.
  if (hasOneShot && typeof eventHashHex === 'string' && eventHashHex.length === 64 && leafInput.write(eventHashHex, 1, 'hex') === 32) {
    return crypto.hash('sha256', leafInput, 'buffer');
  }
  return hashLeaf(Buffer.from(eventHashHex, 'hex'));
}

const leafInput = Buffer.alloc(33); // [0] stays 0x00, the RFC 9162 leaf prefix
