/**
 * The last step: the record proves itself. The audit log is read back and verified
 * (signed checkpoint, hash chain, an inclusion proof per denial), and each refusal of
 * the run is matched, by trace id, to the entry that says who refused it and why.
 */
import type { AuditReport } from './audit-report.js';
import { readAuditLog } from './audit-report.js';
import { denialsInTrace } from './audit-lookup.js';
import type { DemoWorld } from './demo-world.js';
import type { StepRecord } from './narrator.js';
import type { StepSpec } from './step-runner.js';

/** The `audit-verified` step; `out.report` holds what was read, for the summary. */
export function auditStep(world: DemoWorld, earlier: readonly StepRecord[], out: { report?: AuditReport }): StepSpec {
  return {
    id: 'audit-verified',
    expected: 'allow',
    async run() {
      // The authority ships its own entries asynchronously: give each refusal's entry a
      // moment to arrive before the log is read and judged.
      for (const r of earlier) if (r.actual === 'deny' && r.traceId) await denialsInTrace(world, r.traceId, 5000);
      const report = await readAuditLog(world);
      out.report = report;
      const details: (readonly [string, string])[] = [
        ['entries', `${report.entries} in log ${report.origin}; hash chain ${report.chainVerified ? 'verified' : 'BROKEN'} by the service`],
        ['root', `Merkle root ${report.rootHex.slice(0, 32)}… at tree size ${report.treeSize}`],
        ['checkpoint', `signature verified with the log's published key (C2SP signed note)`],
      ];
      const missing: string[] = [];
      const found: string[] = [];
      for (const r of earlier) {
        if (r.actual !== 'deny' || !r.traceId) continue;
        const seqs = report.denials.filter((d) => d.traceId === r.traceId).map((d) => `#${d.sequence}`);
        if (seqs.length === 0) missing.push(r.step);
        else found.push(`${r.step} ${seqs.join(' ')}`);
      }
      details.push(['refusals', `every refusal of the run has its entry: ${found.join(', ')}`]);
      if (missing.length > 0) details.push(['MISSING', `no audit entry for ${missing.join(', ')}`]);
      const unproven = report.denials.filter((d) => !d.proven);
      details.push(['proofs', `${report.denials.length - unproven.length}/${report.denials.length} denial entries proven included in the signed tree`]);
      const code = !report.chainVerified ? 'ERR_LOG_TAMPERED' : unproven.length > 0 ? 'ERR_MERKLE_PROOF_INVALID' : missing.length > 0 ? 'ERR_AUDIT_UNAVAILABLE' : null;
      return {
        actual: code === null ? 'allow' : 'deny',
        code,
        headline: 'the audit log, read back: checkpoint signature, hash chain, and an inclusion proof for every denial',
        details,
      };
    },
  };
}
