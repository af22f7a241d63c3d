/**
 * Stolen, revoked, released and replayed credentials: a lifted token without its key,
 * the operator revoking the intern mid-task (with the measured propagation delay), the
 * task released, and a replayed launch token.
 */
import { RevocationLevel, RevocationReason } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { ask } from './agent-calls.js';
import type { CallReply } from './agent-calls.js';
import type { DemoWorld } from './demo-world.js';
import { member } from './expense-cast.js';
import type { ExpenseState } from './expense-cast.js';
import { currentTraceparent, inSpan } from './process-tracing.js';
import { guardApplied, newestRevocationSequence } from './revocation-sync.js';
import type { StepSpec } from './step-runner.js';

/** The attacks after the approval. */
export function attackSteps(world: DemoWorld, state: ExpenseState): StepSpec[] {
  return [
    {
      id: 'exfiltrated-token-refused',
      expected: 'deny',
      expectedCodes: ['ERR_PROOF_KEY_MISMATCH', 'ERR_PROOF_MISSING'],
      async run() {
        const { token } = await ask<{ token: string }>(member(state, 'executor').child, 'leak-token', { with: 'delegated' });
        const attacker = await world.startAttacker();
        try {
          const r = await attacker.request<{ attempts: { how: string; outcome: 'allow' | 'deny'; code: string | null }[] }>('replay-token', {
            token,
            invoiceId: 'inv-1001',
            amount: 4000,
            vendor: 'acme-supplies',
            traceparent: currentTraceparent(),
          });
          const allowed = r.attempts.some((a) => a.outcome === 'allow');
          return {
            actual: allowed ? 'allow' : 'deny',
            code: allowed ? null : (r.attempts[r.attempts.length - 1]?.code ?? null),
            headline: `a token lifted from the executor's process (${token.length} bytes) is replayed by another process without the key`,
            details: r.attempts.map((a) => ['attempt', `${a.how}: ${a.outcome === 'allow' ? 'ALLOWED' : `refused ${a.code}`}`] as const),
          };
        } finally {
          await attacker.stop();
        }
      },
    },
    {
      id: 'revoked-mid-task-refused',
      expected: 'deny',
      expectedCodes: ['ERR_CHAIN_REVOKED', 'ERR_TOKEN_REVOKED'],
      async run() {
        const executor = member(state, 'executor').child;
        const before = await ask(executor, 'read', { invoiceId: 'inv-1001', with: 'delegated' });
        const intern = member(state, 'intern');
        const t0 = Date.now();
        const { sequence } = await inSpan('operator: revoke the intern', () =>
          world.governance.operatorIssuer.revoke({ level: RevocationLevel.AGENT, target: intern.spiffeId, reason: RevocationReason.MANUAL, note: 'suspicious activity' }),
        );
        const t1 = Date.now();
        const appliedAt = await guardApplied(world.payments, sequence);
        const r = await ask(executor, 'approve', { invoiceId: 'inv-1001', amount: 4000, vendor: 'acme-supplies', with: 'delegated' });
        return {
          actual: r.outcome,
          code: r.code,
          headline: "the operator revokes the intern mid-task; the executor's next call, through the intern's hop, is refused",
          details: [
            ['before', `the executor's read just before: ${before.outcome === 'allow' ? 'allowed' : `refused ${before.code}`}`],
            ['delay', `Revoke took ${t1 - t0} ms at the authority (recorded and audited); the payments guard applied it ${appliedAt <= t1 ? 'before the call even returned' : `${appliedAt - t1} ms after`} (${appliedAt - t0} ms end to end, sequence ${String(sequence)})`],
          ],
        };
      },
    },
    {
      id: 'released-token-refused',
      expected: 'deny',
      expectedCodes: ['ERR_TOKEN_RELEASED'],
      async run() {
        const manager = member(state, 'manager').child;
        await ask(manager, 'prepare-replay');
        await ask(manager, 'release');
        await guardApplied(world.payments, await newestRevocationSequence(world.issuer));
        const r = await ask<CallReply>(manager, 'replay-prepared', { invoiceId: 'inv-1001' });
        return {
          actual: r.outcome,
          code: r.code,
          headline: "task done: the manager releases; its token, used with a proof made before release, is dead",
        };
      },
    },
    {
      id: 'launch-token-replay-refused',
      expected: 'deny',
      expectedCodes: ['ERR_LAUNCH_TOKEN_REPLAYED'],
      async run() {
        const attacker = await world.startAttacker();
        try {
          const r = await attacker.request<CallReply>('register', { launchToken: member(state, 'manager').launchToken, traceparent: currentTraceparent() });
          return { actual: r.outcome, code: r.code, headline: "a process registers with the manager's launch token, copied from its spawn environment" };
        } finally {
          await attacker.stop();
        }
      },
    },
  ];
}
