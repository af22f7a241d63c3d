/**
 * The crash run in Markdown (docs/crash-results.md, overwritten by each run).
 */
import type { CrashRound } from './crash-run.js';
import type { UnexpectedError } from './soak-ledger.js';

/** What the report is made of. */
export interface CrashReport {
  readonly startedAt: string;
  readonly machine: string;
  readonly loadAverage: readonly [number, number];
  readonly durationMs: number;
  readonly concurrency: number;
  readonly window: readonly [number, number];
  readonly rounds: readonly CrashRound[];
  readonly operations: Record<string, number>;
  readonly denials: Record<string, number>;
  readonly interrupted: Record<string, number>;
  readonly unexpectedCount: number;
  readonly unexpected: readonly UnexpectedError[];
  readonly passed: boolean;
}

const total = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0);
const codes = (r: Record<string, number>): string =>
  Object.entries(r)
    .map(([c, n]) => `${c}×${n}`)
    .join(', ') || '—';

/** One line for the terminal. */
export function crashSummaryLine(r: CrashReport): string {
  const v = r.rounds.reduce((n, x) => n + x.violations.length, 0);
  return `crash ${r.passed ? 'PASSED' : 'FAILED'}: ${r.rounds.length} kills under load, ${v} violations, ${r.unexpectedCount} unexpected errors, ${r.rounds.at(-1)?.appendsChecked ?? 0} acknowledged appends and ${r.rounds.at(-1)?.eventsChecked ?? 0} implied events checked after every restart`;
}

/** docs/crash-results.md. */
export function crashMarkdown(r: CrashReport): string {
  const sum = (f: (x: CrashRound) => number): number => r.rounds.reduce((n, x) => n + f(x), 0);
  const last = r.rounds.at(-1);
  const lines = [
    '# Crash test: latest results',
    '',
    'Written by `npm run crash` (tools/bench/src/crash.ts), which overwrites this file on every run.',
    '',
    `- **Verdict: ${r.passed ? 'PASSED' : 'FAILED'}** — ${r.rounds.length} kill -9 of the authority under load; violations: ${sum((x) => x.violations.length)}; unexpected errors: ${r.unexpectedCount}`,
    `- Run: ${r.startedAt}, ${(r.durationMs / 1000).toFixed(0)} s, ${r.concurrency} lifecycles in flight plus a direct audit appender; each kill at a uniformly random moment ${r.window[0]}–${r.window[1]} ms into the round's load`,
    `- Machine: ${r.machine}; load average ${r.loadAverage[0].toFixed(2)} at the start, ${r.loadAverage[1].toFixed(2)} at the end`,
    '- Command: `npm run crash` (`npm run crash -- --rounds N`)',
    '',
    '## What every round checks',
    '',
    '1. The audit log file as the kill left it verifies offline (`verifyLogFile`: hash chain, Merkle roots, every stored signed checkpoint) and agrees with the newest checkpoint the live service published before the kill.',
    '2. The authority restarts on the same data directory and port. Every fourth restart is itself killed within 300 ms of its ready line (while the services replay their audit spools), the file verified again, and the authority restarted once more.',
    '3. Every audit entry acknowledged so far is in the log once the services have replayed their spools: each direct `Append` at the sequence it was acknowledged with, and each event an acknowledged operation implies (`launch_token.created/consumed/replayed`, `agent.registered`, `token.issued/renewed/released/revoked`, `delegation.granted`, counted per agent or task). The service\'s own `Verify` passes.',
    '4. Every launch token of an acknowledged registration, presented again with a fresh key and challenge, is refused with `ERR_LAUNCH_TOKEN_REPLAYED`; every nonce of an acknowledged hand registration, signed with an unused launch token, is refused with `ERR_NONCE_REPLAYED`, after which that launch token still registers (a refusal consumed nothing); a launch token whose registration the kill cut short works at most once.',
    '',
    '## Totals',
    '',
    `- Operations acknowledged: ${total(r.operations)} (${codes(r.operations)})`,
    `- Expected denials: ${total(r.denials)} (${codes(r.denials)})`,
    `- Operations cut short by a kill: ${total(r.interrupted)} (${codes(r.interrupted)})`,
    `- Acknowledged direct appends checked: ${last?.appendsChecked ?? 0}; implied events checked: ${last?.eventsChecked ?? 0}; missing after any restart: ${sum((x) => x.presence.missingAppends.length + x.presence.missingEvents.length)}`,
    `- Launch-token replays: ${sum((x) => x.replays.launchTokens.tried)}, worked: ${sum((x) => x.replays.launchTokens.worked)}; nonce replays: ${sum((x) => x.replays.nonces.tried)}, worked: ${sum((x) => x.replays.nonces.worked)}`,
    `- Launch tokens of interrupted registrations: ${sum((x) => x.replays.unknown.tried)}, worked once after the restart: ${sum((x) => x.replays.unknown.workedOnce)}, twice: ${sum((x) => x.replays.unknown.workedTwice)}`,
    `- Unexpected errors: **${r.unexpectedCount}**`,
    ...r.unexpected.map((e) => `  - ${e.op}: ${e.code} — ${e.detail}`),
    '',
    '## Rounds',
    '',
    '| round | kill at | acked ops | cut short | log after kill | pre-kill checkpoint | restart | missing | service Verify | launch-token replays | nonce replays | interrupted tokens (once/twice) | result |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...r.rounds.map(
      (x) =>
        `| ${x.round} | ${x.killAfterMs} ms | ${x.acknowledged} | ${x.interrupted} | ${x.verifiedAfterKill.ok ? 'ok' : 'FAILED'}, ${x.verifiedAfterKill.entries} entries, ${x.verifiedAfterKill.checkpoints} checkpoints | size ${x.preKillCheckpointSize} | ${x.restartMs} ms${x.recoveryKill ? ` + kill ${x.recoveryKill.afterMs} ms into recovery (${x.recoveryKill.verified ? 'verified' : 'NOT verified'})` : ''} | ${x.presence.missingAppends.length + x.presence.missingEvents.length} | ${x.serviceVerify.ok ? 'ok' : 'FAILED'} (${x.serviceVerify.entries}) | ${x.replays.launchTokens.tried}: ${codes(x.replays.launchTokens.refused)}${x.replays.launchTokens.worked ? `, WORKED ${x.replays.launchTokens.worked}` : ''} | ${x.replays.nonces.tried}: ${codes(x.replays.nonces.refused)}${x.replays.nonces.worked ? `, WORKED ${x.replays.nonces.worked}` : ''} | ${x.replays.unknown.tried} (${x.replays.unknown.workedOnce}/${x.replays.unknown.workedTwice}) | ${x.violations.length === 0 ? 'pass' : `FAIL: ${x.violations.join('; ')}`} |`,
    ),
    '',
  ];
  return lines.join('\n');
}
