/**
 * Builds the WHERE clause of an entry query, the same for both dialects (`?`
 * placeholders; the PostgreSQL store renumbers them).
 */
import type { EntryFilter } from './store.js';

/** A WHERE clause (without the keyword; `TRUE`-equivalent when no filter) and its values. */
export function whereOf(filter: EntryFilter): { sql: string; params: Array<string | number> } {
  const parts: string[] = [];
  const params: Array<string | number> = [];
  const eq = (column: string, v: string | undefined): void => {
    if (v !== undefined && v !== '') {
      parts.push(`${column} = ?`);
      params.push(v);
    }
  };
  eq('agent', filter.agent);
  eq('task', filter.task);
  eq('orchestration', filter.orchestration);
  eq('workflow', filter.workflow);
  eq('type', filter.type);
  eq('outcome', filter.outcome);
  eq('principal', filter.principal);
  eq('trace_id', filter.traceId);
  if (filter.since !== undefined && filter.since > 0) {
    parts.push('time >= ?');
    params.push(filter.since);
  }
  if (filter.until !== undefined && filter.until > 0) {
    parts.push('time < ?');
    params.push(filter.until);
  }
  if (filter.afterSequence !== undefined && filter.afterSequence > 0) {
    parts.push('seq > ?');
    params.push(filter.afterSequence);
  }
  return { sql: parts.length > 0 ? parts.join(' AND ') : '1 = 1', params };
}
