/**
 * Scenario "expense approval" (issue 7): `user:vp` authorizes the workflow up to
 * $10,000; the orchestrator spawns the manager, who delegates to the intern, who
 * delegates to the payments-executor, who approves $4,000; then the attacks.
 */
import { approvalSteps } from './approval-steps.js';
import { attackSteps } from './attack-steps.js';
import { auditStep } from './audit-step.js';
import type { AuditReport } from './audit-report.js';
import type { DemoOptions } from './cli-options.js';
import type { ExpenseState } from './expense-cast.js';
import { PRINCIPAL, newTaskId } from './governance.js';
import type { Narrator, StepRecord } from './narrator.js';
import { runScenario } from './scenario-frame.js';
import { refusalDetails } from './audit-lookup.js';
import type { DemoWorld } from './demo-world.js';
import { runStep } from './step-runner.js';
import type { StepSpec } from './step-runner.js';

/** Who refused a step and the precise reason, read back from the audit log (human output only). */
async function explainRefusal(world: DemoWorld, narrator: Narrator, r: StepRecord): Promise<void> {
  if (narrator.json || r.actual !== 'deny') return;
  for (const [label, text] of await refusalDetails(world, r.traceId)) narrator.detail(label, text);
}

/** Runs the scenario; resolves true when every outcome was as expected. */
export function runExpenseApproval(options: DemoOptions, narrator: Narrator): Promise<boolean> {
  return runScenario(options, narrator, 'expense approval', async (world) => {
    const state: ExpenseState = { taskId: newTaskId() };
    narrator.section(`The task: ${PRINCIPAL}'s invoice, approved through a chain of agents born for it`);
    const records: StepRecord[] = [];
    const run = async (spec: StepSpec): Promise<void> => {
      const r = await runStep(narrator, spec);
      records.push(r);
      await explainRefusal(world, narrator, r);
    };
    for (const spec of approvalSteps(world, state)) await run(spec);
    narrator.section('The attacks');
    for (const spec of attackSteps(world, state)) await run(spec);
    narrator.section('The record: read back from the audit log and verified');
    const audit: { report?: AuditReport } = {};
    records.push(await runStep(narrator, auditStep(world, [...records], audit)));
    return { records, auditEntries: audit.report?.entries ?? 0, checkpointVerified: audit.report?.checkpointVerified ?? false };
  });
}
