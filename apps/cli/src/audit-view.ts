/**
 * Audit entries as the CLI shows them (a compact JSON view without empty fields, and one
 * line per entry for people), and the filter flags shared by `audit query` and `audit tail`.
 */
import type { MessageInitShape } from '@bufbuild/protobuf';
import { Outcome, type AuditEntry, type QueryFilterSchema } from '@baton/proto/baton/audit/v1/audit_pb.js';
import { failure } from './cli-error.js';
import { str, type CommandInput, type OptionSpec } from './command-spec.js';
import { parseDuration } from './durations.js';

/** Filter flags of `audit query` and `audit tail`. */
export const AUDIT_FILTER_OPTIONS: Readonly<Record<string, OptionSpec>> = Object.freeze({
  agent: { type: 'string', value: '<spiffe-id>', description: 'only entries about this agent', default: 'any' },
  task: { type: 'string', value: '<task>', description: 'only this task', default: 'any' },
  orchestration: { type: 'string', value: '<id>', description: 'only this orchestration', default: 'any' },
  workflow: { type: 'string', value: '<workflow>', description: 'only this workflow', default: 'any' },
  type: { type: 'string', value: '<event-type>', description: 'only this event type, e.g. validation.denied', default: 'any' },
  outcome: { type: 'string', value: '<allow|deny|info>', description: 'only this outcome', default: 'any' },
  since: { type: 'string', value: '<time>', description: 'from this time: ISO-8601, or a duration ago such as 15m', default: 'the beginning' },
  until: { type: 'string', value: '<time>', description: 'before this time: ISO-8601, or a duration ago', default: 'now' },
  from: { type: 'string', value: '<sequence>', description: 'from this sequence number', default: 'the first' },
  trace: { type: 'string', value: '<trace-id>', description: 'only this trace (32 hex digits)', default: 'any' },
});

const OUTCOMES: Readonly<Record<string, Outcome>> = Object.freeze({ allow: Outcome.ALLOW, deny: Outcome.DENY, info: Outcome.INFO });

function parseTime(value: string, flag: string, nowMs: number): bigint {
  const t = value.trim();
  if (/^\d+[smhd]?$/.test(t)) return BigInt(nowMs - parseDuration(t, flag) * 1000);
  const ms = Date.parse(t);
  if (!/^\d{4}-\d{2}-\d{2}/.test(t) || Number.isNaN(ms)) throw failure('ERR_INVALID_ARGUMENT', `--${flag} ${JSON.stringify(value)} is not a time`, 'use ISO-8601 (2025-01-31T12:00:00Z) or a duration ago (15m, 2h)');
  return BigInt(ms);
}

/** A positive sequence number flag. */
export function parseSequence(value: string, flag: string): bigint {
  if (!/^[1-9]\d{0,15}$/.test(value.trim())) throw failure('ERR_INVALID_ARGUMENT', `${flag} ${JSON.stringify(value)} is not a sequence number (1, 2, …)`);
  return BigInt(value.trim());
}

/** The proto filter from the flags. */
export function auditFilter(input: CommandInput, nowMs: number): MessageInitShape<typeof QueryFilterSchema> {
  const outcome = str(input, 'outcome');
  if (outcome !== undefined && !Object.hasOwn(OUTCOMES, outcome)) throw failure('ERR_INVALID_ARGUMENT', `--outcome ${JSON.stringify(outcome)}`, 'use allow, deny or info');
  const trace = str(input, 'trace');
  if (trace !== undefined && !/^[0-9a-f]{32}$/.test(trace)) throw failure('ERR_INVALID_ARGUMENT', '--trace must be 32 lowercase hex digits');
  const since = str(input, 'since');
  const until = str(input, 'until');
  const from = str(input, 'from');
  return {
    agent: str(input, 'agent') ?? '',
    task: str(input, 'task') ?? '',
    orchestration: str(input, 'orchestration') ?? '',
    workflow: str(input, 'workflow') ?? '',
    type: str(input, 'type') ?? '',
    outcome: outcome === undefined ? Outcome.UNSPECIFIED : OUTCOMES[outcome]!,
    since: since === undefined ? 0n : parseTime(since, 'since', nowMs),
    until: until === undefined ? 0n : parseTime(until, 'until', nowMs),
    fromSequence: from === undefined ? 0n : parseSequence(from, '--from'),
    traceId: trace ?? '',
  };
}

/** JSON view of an entry: set fields only. */
export type AuditEntryView = Record<string, unknown> & { sequence: number; type: string; outcome: string };

const OUTCOME_NAMES: Readonly<Record<number, string>> = Object.freeze({ [Outcome.ALLOW]: 'allow', [Outcome.DENY]: 'deny', [Outcome.INFO]: 'info' });

/** The JSON view of an entry. */
export function entryView(e: AuditEntry): AuditEntryView {
  const ev = e.event;
  const view: AuditEntryView = {
    sequence: Number(e.sequence),
    loggedAt: Number(e.loggedAt),
    type: ev?.type ?? '',
    outcome: OUTCOME_NAMES[ev?.outcome ?? 0] ?? 'unspecified',
  };
  if (ev) {
    const fields: Array<[string, unknown]> = [
      ['eventId', ev.eventId],
      ['time', Number(ev.time)],
      ['source', ev.source],
      ['agent', ev.agent],
      ['task', ev.task],
      ['orchestration', ev.orchestration],
      ['workflow', ev.workflow],
      ['principal', ev.principal],
      ['action', ev.action],
      ['resource', ev.resource],
      ['reasonCode', ev.reasonCode],
      ['reasonDetail', ev.reasonDetail],
      ['delegationDepth', ev.delegationDepth],
      ['chainHash', ev.chainHash],
      ['intermediateAgents', ev.intermediateAgents.length ? [...ev.intermediateAgents] : undefined],
      ['traceId', ev.traceId],
      ['spanId', ev.spanId],
      ['attributes', Object.keys(ev.attributes).length ? { ...ev.attributes } : undefined],
      ['count', ev.count],
    ];
    for (const [k, v] of fields) if (v !== undefined && v !== '' && v !== 0) view[k] = v;
  }
  view.prevHash = e.prevHash;
  view.eventHash = e.eventHash;
  return view;
}

/** One line per entry. */
export function formatEntryLine(v: AuditEntryView): string {
  const at = new Date(Number(v.loggedAt)).toISOString();
  const who = [v.agent ?? v.source, v.task ? `task ${String(v.orchestration ?? '')}/${String(v.task)}` : undefined].filter(Boolean).join(' ');
  const why = v.reasonCode ? ` ${String(v.reasonCode)}${v.reasonDetail ? ` (${String(v.reasonDetail)})` : ''}` : '';
  const what = v.action || v.resource ? ` ${String(v.action ?? '')}:${String(v.resource ?? '')}` : '';
  const count = typeof v.count === 'number' && v.count > 1 ? ` ×${v.count}` : '';
  return `#${v.sequence}  ${at}  ${v.type.padEnd(22)} ${v.outcome.padEnd(5)} ${who}${what}${why}${count}`.trimEnd();
}
