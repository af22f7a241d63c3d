/**
 * Issue 7, "Done when": `npm run demo -- --json` prints every step with "ok": true and a
 * summary with "ok": true — run here against the built demo, every party a real process,
 * for the expense-approval scenario and the exfiltration comparison.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const demoMain = createRequire(import.meta.url).resolve('@baton/demo/dist/main.js');

interface DemoRun {
  readonly code: number | null;
  readonly lines: Record<string, unknown>[];
  readonly stderr: string;
}

function runDemo(args: readonly string[]): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [demoMain, ...args, '--json'], { env: { PATH: process.env['PATH'] ?? '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (err += c));
    child.once('error', reject);
    child.once('exit', (code) => {
      try {
        resolve({ code, lines: out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>), stderr: err });
      } catch (e) {
        reject(new Error(`demo printed something other than JSON lines: ${String(e)}\n${out}\n${err}`));
      }
    });
  });
}

const EXPENSE_STEPS = [
  'delegated-approval-allowed',
  'escalation-refused',
  'forged-hop-refused',
  'constraint-refused',
  'exfiltrated-token-refused',
  'revoked-mid-task-refused',
  'released-token-refused',
  'launch-token-replay-refused',
  'audit-verified',
];

// Each run starts a dozen processes; on a busy two-core machine that takes a while.
const DEMO_TIMEOUT_MS = 120_000;

describe('npm run demo -- --json', () => {
  it('expense approval: every step as expected, the audit log verified', { timeout: DEMO_TIMEOUT_MS }, async () => {
    // Seed 7: the intern brings in a checker, so the optional branch runs too.
    const run = await runDemo(['--seed', '7']);
    const steps = run.lines.filter((l) => 'step' in l);
    const summary = run.lines[run.lines.length - 1];
    expect(steps.map((s) => s['step']), run.stderr).toEqual(EXPENSE_STEPS);
    for (const s of steps) {
      expect(s, run.stderr).toMatchObject({ ok: true });
      expect(s['actual']).toBe(s['expected']);
      expect(s['traceId']).toMatch(/^[0-9a-f]{32}$/);
      if (s['expected'] === 'deny') expect(s['code']).toMatch(/^ERR_[A-Z_]+$/);
      else expect(s['code']).toBeNull();
    }
    expect(steps.find((s) => s['step'] === 'escalation-refused')?.['code']).toBe('ERR_SCOPE_ESCALATION');
    expect(steps.find((s) => s['step'] === 'constraint-refused')?.['code']).toBe('ERR_CONSTRAINT_VIOLATED');
    expect(steps.find((s) => s['step'] === 'launch-token-replay-refused')?.['code']).toBe('ERR_LAUNCH_TOKEN_REPLAYED');
    expect(summary).toEqual({ summary: { ok: true, steps: 9, auditEntries: expect.any(Number), checkpointVerified: true } });
    expect((summary!['summary'] as { auditEntries: number }).auditEntries).toBeGreaterThan(8);
    expect(run.code).toBe(0);
  });

  it('exfiltration: the static key is usable from a dump, nothing Baton leaves behind is', { timeout: DEMO_TIMEOUT_MS }, async () => {
    const run = await runDemo(['exfiltration', '--seed', '5']);
    const steps = Object.fromEntries(run.lines.filter((l) => 'step' in l).map((l) => [l['step'], l]));
    expect(steps['static-key-exfiltrated'], run.stderr).toMatchObject({ expected: 'allow', actual: 'allow', ok: true });
    for (const id of ['env-dump-clean', 'launch-token-replay-refused', 'exfiltrated-token-refused', 'private-key-not-exposed']) {
      expect(steps[id], `${id}\n${run.stderr}`).toMatchObject({ expected: 'deny', actual: 'deny', ok: true });
    }
    expect(run.lines[run.lines.length - 1]).toMatchObject({ summary: { ok: true, steps: 5 } });
    expect(run.code).toBe(0);
  });
});
