#!/usr/bin/env node
/**
 * `npm run soak [-- --minutes N] [-- --rate R] [-- --concurrency C]`: N minutes (default 10)
 * of mixed load (R lifecycles per second, default 2, at most C at a time, default 4) against one authority process plus an in-process guarded resource, sampling the
 * authority's RSS and store sizes. Passes when RSS is flat (soak-rss.ts), no error other
 * than an expected denial occurred, every acknowledged audit entry is in the log, and
 * the log verifies (the service's Verify, then `verifyLogFile` after a graceful stop).
 * Writes docs/soak-results.md; exit code 1 when the soak failed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { runMain, withAuthorityRun } from './authority-run.js';
import { describeMachine } from './machine.js';
import { verifyAuditFile, waitForAcknowledged } from './soak-audit-check.js';
import { SoakLedger, errorCode, tally } from './soak-ledger.js';
import { DEFAULT_CONCURRENCY, runLoad } from './soak-load.js';
import { soakMarkdown, soakSummaryLine, type SoakResult } from './soak-report.js';
import { rssVerdict } from './soak-rss.js';
import { sampleAuthority, type SoakSample } from './soak-sampler.js';

/** Lifecycles started per second: about 50 operations/s, well within what two shared cores sustain. */
const DEFAULT_RATE = 2;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function positive(v: string | undefined, fallback: number, what: string): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new TypeError(`${what} must be a positive number`);
  return n;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string' },
      concurrency: { type: 'string' },
      rate: { type: 'string' },
      out: { type: 'string' },
      keep: { type: 'boolean' },
      // Diagnosis: Node flags for the authority (e.g. --trace-gc), its output kept in the run dir (with --keep).
      'node-arg': { type: 'string', multiple: true },
    },
    strict: true,
  });
  const minutes = positive(values.minutes, 10, '--minutes');
  const concurrency = Math.round(positive(values.concurrency, DEFAULT_CONCURRENCY, '--concurrency'));
  // A steady rate, so RSS is compared under the same load throughout (the machine is shared).
  const rate = positive(values.rate, DEFAULT_RATE, '--rate');
  const out = path.resolve(ROOT, values.out ?? 'docs/soak-results.md');
  const durationMs = Math.round(minutes * 60_000);
  // About a hundred samples per run, every 1 to 5 s.
  const sampleEveryMs = Math.min(5000, Math.max(1000, Math.round(durationMs / 100)));
  const log = (m: string): void => void process.stderr.write(`[soak] ${m}\n`);

  const startedAt = new Date().toISOString();
  const loadStart = os.loadavg()[0]!;
  const nodeArgs = values['node-arg'] ?? [];
  const spawn = (dir: string) => (nodeArgs.length > 0 ? { nodeArgs, logFile: path.join(dir, 'authority.log') } : {});
  return withAuthorityRun({ name: 'soak', keep: values.keep === true, spawn, log }, async ({ setup, authority, world }) => {
    const ledger = new SoakLedger();
    const samples: SoakSample[] = [];
    let lifecycles = 0;
    const start = Date.now();
    const take = (): void => {
      const s = sampleAuthority(authority.pid, setup.dataDir, Date.now() - start, ledger.operations);
      samples.push(s);
      if (samples.length % Math.max(1, Math.round(30_000 / sampleEveryMs)) === 1) {
        log(`${(s.atMs / 1000).toFixed(0)} s: RSS ${(s.rssBytes / 1e6).toFixed(1)} MB (anon ${(s.anonBytes / 1e6).toFixed(1)}), ${s.operations} ops, ${ledger.unexpectedCount} unexpected errors, audit ${s.rows['audit_entries'] ?? '?'} entries`);
      }
    };
    take();
    const sampler = setInterval(take, sampleEveryMs);
    log(`${minutes} min of load: ${rate} lifecycles/s, at most ${concurrency} in flight`);
    try {
      await runLoad({
        world,
        ledger,
        concurrency,
        ratePerSecond: rate,
        running: () => Date.now() - start < durationMs,
        nextNumber: () => lifecycles++,
        replayNow: true,
        appendKey: setup.resourceKey,
      });
    } finally {
      clearInterval(sampler);
    }
    const loadMs = Date.now() - start;
    take();

    log('load stopped; waiting for every acknowledged audit entry, then verifying');
    await world.payments.audit.drain(30_000);
    const auditFile = path.join(setup.dataDir, 'audit.db');
    const presence = await waitForAcknowledged(auditFile, ledger, 60_000);
    // The whole log, through the service: minutes for a long run's hundreds of thousands of entries.
    const v = await world.operatorAudit
      .verify({}, { deadlineMs: 600_000 })
      .catch((err: unknown) => ({ ok: false, entries: 0n, problem: `Verify call failed: ${errorCode(err)}` }));
    await world.close();
    await authority.stop();
    const offline = await verifyAuditFile(auditFile, world.logVerifier);
    const rss = rssVerdict(
      samples.filter((s) => s.rssBytes > 0 && s.atMs <= loadMs),
      loadMs,
    );
    const serviceVerify = { ok: v.ok, entries: Number(v.entries), problem: v.problem };
    const offlineVerify = {
      ok: offline.ok,
      entries: offline.entries,
      checkpoints: offline.checkpointsUsed,
      ...(offline.ok ? {} : { problem: `${offline.firstBad?.problem ?? 'rejected checkpoint'}: ${offline.firstBad?.detail ?? JSON.stringify(offline.rejectedCheckpoints)}` }),
    };
    const passed =
      rss.flat !== false &&
      ledger.unexpectedCount === 0 &&
      presence.missingAppends.length === 0 &&
      presence.missingEvents.length === 0 &&
      serviceVerify.ok &&
      offlineVerify.ok;
    const result: SoakResult = {
      startedAt,
      machine: describeMachine().summary,
      loadAverage: [loadStart, os.loadavg()[0]!],
      minutes,
      concurrency,
      rate,
      durationMs: loadMs,
      sampleEveryMs,
      lifecycles,
      samples,
      rss,
      operations: tally(ledger.ok),
      denials: tally(ledger.denied),
      unexpectedCount: ledger.unexpectedCount,
      unexpected: ledger.unexpected,
      presence,
      appendsChecked: ledger.ackedAppends.length,
      eventsChecked: ledger.expectedEvents.length,
      serviceVerify,
      offlineVerify,
      passed,
    };
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, soakMarkdown(result));
    process.stdout.write(`${soakSummaryLine(result)}\nwrote ${path.relative(ROOT, out)}\n`);
    if (rss.flat === undefined) log('too few samples for an RSS verdict (run longer)');
    return passed ? 0 : 1;
  });
}

runMain('soak', main);
