/**
 * `baton audit query` and `baton audit tail`: read the audit log (AuditService Query and
 * Tail, operator key).
 */
import { isBatonError } from '@baton/core';
import { AUDIT_FILTER_OPTIONS, auditFilter, entryView, formatEntryLine, type AuditEntryView } from '../audit-view.js';
import { table } from '../table.js';
import { str, type CommandSpec } from '../command-spec.js';
import { withConnection } from '../connection.js';
import { parseCount } from '../durations.js';

/** Largest page the service serves. */
const MAX_PAGE = 1000;

export const auditQueryCommand: CommandSpec = {
  path: ['audit', 'query'],
  summary: 'Search the audit log (operator).',
  description: 'Entries matching every filter given, oldest first. Times are when the source recorded the event.',
  positionals: [],
  options: {
    ...AUDIT_FILTER_OPTIONS,
    limit: { type: 'string', value: '<n>', description: 'most entries to print (0: all)', default: '100' },
  },
  client: true,
  examples: ['baton audit query --outcome deny --since 1h', 'baton audit query --task orch-1/inv-7 --json'],
  async run(input, ctx) {
    const filter = auditFilter(input, ctx.io.clock.now());
    const limitText = str(input, 'limit');
    const limit = limitText === undefined ? 100 : parseCount(limitText, 'limit', 0, 1_000_000);
    const { entries, more } = await withConnection(input, ctx, async (c) => {
      const out: AuditEntryView[] = [];
      let pageToken = '';
      do {
        const want = limit === 0 ? MAX_PAGE : Math.min(MAX_PAGE, limit - out.length);
        const res = await c.audit().query({ filter, pageSize: want, pageToken });
        out.push(...res.entries.map(entryView));
        pageToken = res.nextPageToken;
        ctx.out.progress(`fetched ${out.length} entries…`);
      } while (pageToken !== '' && (limit === 0 || out.length < limit));
      return { entries: limit === 0 ? out : out.slice(0, limit), more: pageToken !== '' };
    });
    ctx.out.result({ entries, truncated: more }, () => {
      if (entries.length === 0) return 'no matching entries';
      const body = table(
        ['SEQ', 'LOGGED', 'TYPE', 'OUTCOME', 'AGENT / SOURCE', 'REASON'],
        entries.map((e) => [String(e.sequence), new Date(Number(e.loggedAt)).toISOString(), e.type, e.outcome, String(e.agent ?? e.source ?? ''), String(e.reasonCode ?? '')]),
      );
      return more ? `${body}\n(more entries match: raise --limit, or narrow with --from ${entries[entries.length - 1]!.sequence + 1})` : body;
    });
  },
};

export const auditTailCommand: CommandSpec = {
  path: ['audit', 'tail'],
  summary: 'Follow the audit log as entries arrive (operator).',
  description:
    'Prints matching entries as they are logged until interrupted (Ctrl-C) or --limit entries were shown. Without --from only new entries are shown. With --json each entry is one JSON line (JSON Lines).',
  positionals: [],
  options: {
    ...AUDIT_FILTER_OPTIONS,
    limit: { type: 'string', value: '<n>', description: 'stop after this many entries (0: never)', default: '0' },
  },
  client: true,
  examples: ['baton audit tail --outcome deny', 'baton audit tail --from 1 --limit 20 --json'],
  async run(input, ctx) {
    const filter = auditFilter(input, ctx.io.clock.now());
    const limitText = str(input, 'limit');
    const limit = limitText === undefined ? 0 : parseCount(limitText, 'limit', 0, 1_000_000_000);
    const abort = new AbortController();
    const stop = (): void => abort.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    let shown = 0;
    try {
      await withConnection(input, ctx, async (c) => {
        ctx.out.note(`following the audit log at ${c.target} (Ctrl-C to stop)…`);
        for await (const res of c.audit().tail({ filter }, { signal: abort.signal })) {
          if (!res.entry) continue;
          const view = entryView(res.entry);
          ctx.out.item(view, formatEntryLine(view));
          shown++;
          if (limit > 0 && shown >= limit) break;
        }
      });
    } catch (err) {
      // Ctrl-C ends a tail normally.
      if (!(abort.signal.aborted && isBatonError(err) && err.code === 'ERR_CANCELLED')) throw err;
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
    return 0;
  },
};
