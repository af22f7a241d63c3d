/**
 * The `audit_entries` table once for both stores: its columns (in ENTRY_COLUMNS order)
 * and indexes, rendered with each dialect's integer types. Only the first migration
 * uses it; a later schema change is a new migration, never an edit here.
 */
import { ENTRY_COLUMNS } from './row-codec.js';

type Kind = 'text' | 'int' | 'bigint';

// Everything not listed is TEXT; seq and event_id carry their key constraints.
const KINDS: Partial<Record<(typeof ENTRY_COLUMNS)[number], Kind>> = {
  seq: 'bigint',
  logged_at: 'bigint',
  time: 'bigint',
  delegation_depth: 'int',
  request_bytes: 'bigint',
  token_bytes: 'bigint',
  count: 'bigint',
  first_time: 'bigint',
  last_time: 'bigint',
};

/** SQL type names of a dialect. */
export interface ColumnTypes {
  readonly int: string;
  readonly bigint: string;
}

/** `CREATE TABLE` and `CREATE INDEX` statements of the entries table named `table` (qualified if needed). */
export function entriesTableSql(table: string, types: ColumnTypes): string {
  const columns = ENTRY_COLUMNS.map((c) => {
    const kind = KINDS[c] ?? 'text';
    const type = kind === 'text' ? 'TEXT' : types[kind];
    if (c === 'seq') return `  seq ${type} PRIMARY KEY`;
    return `  ${c} ${type} NOT NULL${c === 'event_id' ? ' UNIQUE' : ''}`;
  });
  return `CREATE TABLE ${table} (
${columns.join(',\n')}
);
CREATE INDEX audit_entries_agent ON ${table} (agent, seq);
CREATE INDEX audit_entries_task ON ${table} (task, seq);
CREATE INDEX audit_entries_workflow ON ${table} (workflow, seq);
CREATE INDEX audit_entries_type ON ${table} (type, seq);
CREATE INDEX audit_entries_time ON ${table} (time);
CREATE INDEX audit_entries_trace ON ${table} (trace_id) WHERE trace_id <> '';`;
}
