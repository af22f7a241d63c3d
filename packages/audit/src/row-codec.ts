/**
 * One row per entry, one column per field (no opaque blob), so what a query returns is
 * exactly what verification hashes. Shared by both stores.
 */
import type { AuditEntry } from './event.js';
import type { AuditEventType, AuditOutcome } from './event-types.js';

/** Column names in insert order. */
export const ENTRY_COLUMNS = [
  'seq',
  'event_id',
  'logged_at',
  'prev_hash',
  'event_hash',
  'time',
  'type',
  'source',
  'outcome',
  'agent',
  'task',
  'orchestration',
  'workflow',
  'principal',
  'action',
  'resource',
  'reason_code',
  'reason_detail',
  'delegation_depth',
  'chain_hash',
  'intermediate_agents',
  'trace_id',
  'span_id',
  'request_bytes',
  'token_bytes',
  'attributes',
  'count',
  'first_time',
  'last_time',
] as const;

/** A row as the database drivers return it (pg returns BIGINT as string). */
export type EntryRow = Record<(typeof ENTRY_COLUMNS)[number], unknown>;

/** Column values of an entry, in {@link ENTRY_COLUMNS} order. */
export function entryToValues(entry: AuditEntry): Array<string | number> {
  const e = entry.event;
  return [
    entry.sequence,
    e.eventId,
    entry.loggedAt,
    entry.prevHash,
    entry.eventHash,
    e.time,
    e.type,
    e.source,
    e.outcome,
    e.agent,
    e.task,
    e.orchestration,
    e.workflow,
    e.principal,
    e.action,
    e.resource,
    e.reasonCode,
    e.reasonDetail,
    e.delegationDepth,
    e.chainHash,
    JSON.stringify(e.intermediateAgents),
    e.traceId,
    e.spanId,
    e.requestBytes,
    e.tokenBytes,
    JSON.stringify(e.attributes),
    e.count,
    e.firstTime,
    e.lastTime,
  ];
}

const num = (v: unknown): number => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : Number(v as string));
const text = (v: unknown): string => (typeof v === 'string' ? v : String(v ?? ''));

// A column that no longer parses decodes to a value no valid entry can hash to, so
// verification names the entry as modified instead of failing as a whole.
function json<T>(v: unknown, check: (x: unknown) => x is T, malformed: T): T {
  // Most rows store an empty list or map; skip the parser for those.
  if (v === '[]' || v === '{}') {
    const empty: unknown = v === '[]' ? [] : {};
    return check(empty) ? empty : malformed;
  }
  try {
    const parsed: unknown = JSON.parse(text(v));
    if (check(parsed)) return parsed;
  } catch {
    // fall through
  }
  return malformed;
}

const isStringArray = (x: unknown): x is string[] => Array.isArray(x) && x.every((s) => typeof s === 'string');
const isStringMap = (x: unknown): x is Record<string, string> =>
  typeof x === 'object' && x !== null && !Array.isArray(x) && Object.values(x).every((s) => typeof s === 'string');

/** Decodes the `intermediate_agents` column (a malformed value decodes to a list no valid entry has). */
export const decodeAgents = (v: unknown): string[] => json(v, isStringArray, ['\u0000malformed']);

/** Decodes the `attributes` column (a malformed value decodes to a map no valid entry has). */
export const decodeAttributes = (v: unknown): Record<string, string> => json(v, isStringMap, { '\u0000malformed': text(v) });

/**
 * Decodes a stored row. Values are taken as stored: an edited row decodes to the edited
 * entry, which then fails verification.
 */
export function rowToEntry(r: EntryRow): AuditEntry {
  return valuesToEntry(ENTRY_COLUMNS.map((c) => r[c]));
}

/** Decodes a row given as values in {@link ENTRY_COLUMNS} order (the fast path). */
export function valuesToEntry(v: readonly unknown[]): AuditEntry {
  return {
    sequence: num(v[0]),
    loggedAt: num(v[2]),
    prevHash: text(v[3]),
    eventHash: text(v[4]),
    event: {
      eventId: text(v[1]),
      time: num(v[5]),
      type: text(v[6]) as AuditEventType,
      source: text(v[7]),
      outcome: text(v[8]) as AuditOutcome,
      agent: text(v[9]),
      task: text(v[10]),
      orchestration: text(v[11]),
      workflow: text(v[12]),
      principal: text(v[13]),
      action: text(v[14]),
      resource: text(v[15]),
      reasonCode: text(v[16]),
      reasonDetail: text(v[17]),
      delegationDepth: num(v[18]),
      chainHash: text(v[19]),
      intermediateAgents: decodeAgents(v[20]),
      traceId: text(v[21]),
      spanId: text(v[22]),
      requestBytes: num(v[23]),
      tokenBytes: num(v[24]),
      attributes: decodeAttributes(v[25]),
      count: num(v[26]),
      firstTime: num(v[27]),
      lastTime: num(v[28]),
    },
  };
}
