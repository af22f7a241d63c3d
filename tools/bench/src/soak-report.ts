/**
 * The soak's result and its Markdown form (docs/soak-results.md, overwritten by each run).
 */
import type { AuditPresence } from './soak-audit-check.js';
import type { UnexpectedError } from './soak-ledger.js';
import type { RssVerdict } from './soak-rss.js';
import type { SoakSample } from './soak-sampler.js';

/** Everything a soak run established. */
export interface SoakResult {
  readonly startedAt: string;
  readonly machine: string;
  /** 1-minute load averages at the start and at the end (the machine may be shared). */
  readonly loadAverage: readonly [number, number];
  readonly minutes: number;
  readonly concurrency: number;
  /** Lifecycles started per second (target). */
  readonly rate: number;
  readonly durationMs: number;
  readonly sampleEveryMs: number;
  readonly lifecycles: number;
  readonly samples: readonly SoakSample[];
  readonly rss: RssVerdict;
  readonly operations: Record<string, number>;
  readonly denials: Record<string, number>;
  readonly unexpectedCount: number;
  readonly unexpected: readonly UnexpectedError[];
  readonly presence: AuditPresence;
  readonly appendsChecked: number;
  readonly eventsChecked: number;
  readonly serviceVerify: { readonly ok: boolean; readonly entries: number; readonly problem: string };
  readonly offlineVerify: { readonly ok: boolean; readonly entries: number; readonly checkpoints: number; readonly problem?: string };
  readonly passed: boolean;
}

const mb = (b: number): string => (b / 1e6).toFixed(1);
const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
const mark = (ok: boolean | undefined): string => (ok === undefined ? 'n/a' : ok ? 'yes' : 'NO');

/** Up to `n` samples evenly spread over the run, first and last included. */
function spread<T>(xs: readonly T[], n: number): T[] {
  if (xs.length <= n) return [...xs];
  return Array.from({ length: n }, (_, i) => xs[Math.round((i * (xs.length - 1)) / (n - 1))]!);
}

/** One line for the terminal. */
export function soakSummaryLine(r: SoakResult): string {
  return (
    `soak ${r.passed ? 'PASSED' : 'FAILED'}: ${Math.round(r.durationMs / 1000)} s, ${r.lifecycles} lifecycles, ${sum(r.operations)} operations, ` +
    `${sum(r.denials)} expected denials, ${r.unexpectedCount} unexpected errors; RSS ${mb(r.rss.minBytes)}–${mb(r.rss.maxBytes)} MB, ` +
    `slope ${r.rss.slopeMbPerMin.toFixed(2)} MB/min, Q4/Q2 ${r.rss.quarterRatio.toFixed(3)} → flat: ${mark(r.rss.flat)}; ` +
    `audit verify: ${r.offlineVerify.ok && r.serviceVerify.ok ? 'ok' : 'FAILED'} (${r.offlineVerify.entries} entries)`
  );
}

/** docs/soak-results.md. */
export function soakMarkdown(r: SoakResult): string {
  const first = r.samples[0];
  const last = r.samples[r.samples.length - 1];
  const tables = [...new Set([...Object.keys(first?.rows ?? {}), ...Object.keys(last?.rows ?? {})])].sort();
  const missing = r.presence.missingAppends.length + r.presence.missingEvents.length;
  const lines = [
    '# Soak test: latest results',
    '',
    'Written by `npm run soak` (tools/bench/src/soak.ts), which overwrites this file on every run. ',
    'Mixed load (register, renew, delegate, validate at a guarded resource, revoke, release, launch-token and nonce replays, direct audit appends) against ONE authority process (`apps/authority`, SQLite) plus an in-process guarded resource.',
    '',
    `- **Verdict: ${r.passed ? 'PASSED' : 'FAILED'}** (RSS flat: ${mark(r.rss.flat)}; unexpected errors: ${r.unexpectedCount}; acknowledged audit entries missing: ${missing}; audit verify: ${r.offlineVerify.ok && r.serviceVerify.ok ? 'ok' : 'FAILED'})`,
    `- Run: ${r.startedAt}, ${r.minutes} min requested, ${(r.durationMs / 60_000).toFixed(2)} min of load at ${r.rate} lifecycles/s (achieved ${((r.lifecycles * 1000) / r.durationMs).toFixed(2)}/s, at most ${r.concurrency} in flight), one sample every ${r.sampleEveryMs / 1000} s`,
    `- Machine: ${r.machine}; load average ${r.loadAverage[0].toFixed(2)} at the start, ${r.loadAverage[1].toFixed(2)} at the end`,
    `- Command: \`npm run soak\` (\`npm run soak -- --minutes 1\` for a quick check)`,
    '',
    '## RSS of the authority',
    '',
    `Criterion (stated in tools/bench/src/soak-rss.ts): ${r.rss.criterion}. The first half is warm-up.`,
    '',
    `| min | max | second-quarter median | last-quarter median | Q4/Q2 | slope, second half | flat |`,
    `|---|---|---|---|---|---|---|`,
    `| ${mb(r.rss.minBytes)} MB | ${mb(r.rss.maxBytes)} MB | ${mb(r.rss.secondQuarterMedianBytes)} MB | ${mb(r.rss.lastQuarterMedianBytes)} MB | ${r.rss.quarterRatio.toFixed(3)} | ${r.rss.slopeMbPerMin.toFixed(2)} MB/min | ${mark(r.rss.flat)} |`,
    '',
    'Series (evenly spaced samples; anonymous RSS is the V8 and malloc heaps, the rest mostly the mapped Node binary; sizes on disk include the WAL):',
    '',
    '| t | RSS | anonymous | state DB | audit DB | spools | audit entries | operations |',
    '|---|---|---|---|---|---|---|---|',
    ...spread(r.samples, 21).map(
      (s) =>
        `| ${(s.atMs / 1000).toFixed(0)} s | ${mb(s.rssBytes)} MB | ${mb(s.anonBytes)} MB | ${mb(s.stateBytes)} MB | ${mb(s.auditBytes)} MB | ${(s.spoolBytes / 1024).toFixed(0)} KiB | ${s.rows['audit_entries'] ?? '—'} | ${s.operations} |`,
    ),
    '',
    'Live rows per table at the first and last sample. The audit log only grows (append-only, by design); identity keeps agent records for an hour and used launch tokens for ten minutes after expiry, so those tables grow during a 10-minute run and level off after their retention; everything else is pruned as it expires.',
    '',
    '| table | first | last |',
    '|---|---|---|',
    ...tables.map((t) => `| ${t} | ${first?.rows[t] ?? '—'} | ${last?.rows[t] ?? '—'} |`),
    '',
    '## Operations',
    '',
    `${r.lifecycles} lifecycles. Successful operations: ${sum(r.operations)}; expected denials: ${sum(r.denials)}; unexpected errors: **${r.unexpectedCount}**.`,
    '',
    '| operation | ok |',
    '|---|---|',
    ...Object.entries(r.operations).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    '| expected denial | count |',
    '|---|---|',
    ...Object.entries(r.denials).map(([k, v]) => `| ${k} | ${v} |`),
    '',
    ...(r.unexpected.length > 0 ? ['Unexpected errors (first ones):', '', ...r.unexpected.map((e) => `- ${e.op}: ${e.code} — ${e.detail}`), ''] : []),
    '## Audit log',
    '',
    `- Acknowledged direct appends checked at their sequence: ${r.appendsChecked}; missing: ${r.presence.missingAppends.length}`,
    `- Events implied by acknowledged operations checked: ${r.eventsChecked}; missing: ${r.presence.missingEvents.length}`,
    `- The service's Verify: ${r.serviceVerify.ok ? 'ok' : `FAILED (${r.serviceVerify.problem})`}, ${r.serviceVerify.entries} entries`,
    `- Offline \`verifyLogFile\` of \`audit.db\` after a graceful stop, with the key from the trust bundle: ${r.offlineVerify.ok ? 'ok' : `FAILED (${r.offlineVerify.problem ?? ''})`}, ${r.offlineVerify.entries} entries, ${r.offlineVerify.checkpoints} signed checkpoints`,
    '',
  ];
  return lines.join('\n');
}
