#!/usr/bin/env node
/**
 * `npm run crash [-- --rounds N]`: kills the authority with SIGKILL at random moments
 * under mixed load, N times (default 20), and after each kill checks that no acknowledged
 * audit entry was lost, that the log verifies, and that no launch token or nonce works
 * twice (crash-run.ts). Writes docs/crash-results.md; exit code 1 on any violation.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runMain, withAuthorityRun } from './authority-run.js';
import { crashMarkdown, crashSummaryLine, type CrashReport } from './crash-report.js';
import { runCrashRounds } from './crash-run.js';
import { describeMachine } from './machine.js';
import { tally } from './soak-ledger.js';
import { DEFAULT_CONCURRENCY } from './soak-load.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const WINDOW: readonly [number, number] = [300, 4000];
/** Every fourth restart is itself killed while the services replay their spools. */
const RECOVERY_KILL_EVERY = 4;

function positiveInt(v: string | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new TypeError(`${what} must be a positive integer`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { rounds: { type: 'string' }, concurrency: { type: 'string' }, out: { type: 'string' }, keep: { type: 'boolean' } },
    strict: true,
  });
  const rounds = positiveInt(values.rounds, 20, '--rounds');
  const concurrency = positiveInt(values.concurrency, DEFAULT_CONCURRENCY, '--concurrency');
  const out = path.resolve(ROOT, values.out ?? 'docs/crash-results.md');
  const log = (m: string): void => void process.stderr.write(`[crash] ${m}\n`);

  const startedAt = new Date().toISOString();
  const loadStart = os.loadavg()[0]!;
  const started = Date.now();
  return withAuthorityRun({ name: 'crash', keep: values.keep === true, log }, async ({ setup, authority, world }) => {
    log(`${rounds} rounds`);
    const result = await runCrashRounds({
      authority,
      world,
      appendKey: setup.resourceKey,
      rounds,
      concurrency,
      minMs: WINDOW[0],
      maxMs: WINDOW[1],
      recoveryKillEvery: RECOVERY_KILL_EVERY,
      onRound: (r) =>
        log(
          `round ${r.round}: killed after ${r.killAfterMs} ms (${r.acknowledged} acked, ${r.interrupted} cut short), restart ${r.restartMs} ms${r.recoveryKill ? ` (killed again ${r.recoveryKill.afterMs} ms into recovery)` : ''}, ` +
            `${r.appendsChecked} appends + ${r.eventsChecked} events checked, ${r.replays.launchTokens.tried} token / ${r.replays.nonces.tried} nonce replays → ` +
            (r.violations.length === 0 ? 'pass' : `FAIL: ${r.violations.join('; ')}`),
        ),
    });
    const report: CrashReport = {
      startedAt,
      machine: describeMachine().summary,
      loadAverage: [loadStart, os.loadavg()[0]!],
      durationMs: Date.now() - started,
      concurrency,
      window: WINDOW,
      rounds: result.rounds,
      operations: tally(result.ledger.ok),
      denials: tally(result.ledger.denied),
      interrupted: tally(result.ledger.interrupted),
      unexpectedCount: result.ledger.unexpectedCount,
      unexpected: result.ledger.unexpected,
      passed: result.passed,
    };
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, crashMarkdown(report));
    process.stdout.write(`${crashSummaryLine(report)}\nwrote ${path.relative(ROOT, out)}\n`);
    return result.passed ? 0 : 1;
  });
}

runMain('crash', main);
