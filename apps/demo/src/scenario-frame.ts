/**
 * What every scenario shares: start the processes, set the workflow up, run the steps
 * (each in its own trace), stop everything, print the trace trees, export to OTLP when
 * asked, and print the summary. Resolves true when every outcome was as expected.
 */
import type { DemoOptions } from './cli-options.js';
import { startWorld } from './demo-world.js';
import type { DemoWorld } from './demo-world.js';
import { ORCHESTRATOR_ID, PRINCIPAL, WORKFLOW_CEILING, WORKFLOW_ID, addOrchestrator, createWorkflow } from './governance.js';
import type { Narrator, StepRecord } from './narrator.js';
import { exportSpansOtlp } from './otlp-export.js';
import { inSpan, setupProcessTracing } from './process-tracing.js';
import { describeScopes } from './scope-text.js';
import { newSeed } from './seeded-random.js';
import { readSpans, renderStepTraces } from './trace-report.js';

/** What a scenario body returns besides its step records. */
export interface ScenarioResult {
  readonly records: readonly StepRecord[];
  readonly auditEntries?: number;
  readonly checkpointVerified?: boolean;
}

async function setUp(world: DemoWorld, narrator: Narrator): Promise<string> {
  const a = world.authority;
  narrator.check(true, `data dir ${world.dir} (0700): operator and orchestrator keys as 0600 files`);
  const hosted = ['identity', 'issuer', ...(world.delegation.standalone ? [] : ['delegation']), 'audit'];
  narrator.check(true, `authority started as pid ${a.child.pid} on ${a.address} (${hosted.join(', ')}); its config lists only public keys: the operator's and the payments server's`);
  if (world.delegation.child) {
    narrator.check(true, `delegation service started beside it as pid ${world.delegation.child.pid} (this authority build does not host it): the authority's delegation key, gRPC to identity and issuer`);
  }
  narrator.check(true, `payments server started as pid ${world.payments.pid} on ${String(world.payments.ready['address'])}: its guard trusts only the authority's keys and follows the live revocation feed`);
  return inSpan(
    'setup',
    async (span) => {
      await createWorkflow(world.governance);
      narrator.check(true, `operator created workflow ${WORKFLOW_ID}: ${PRINCIPAL} authorizes ${describeScopes(WORKFLOW_CEILING)}`);
      const jkt = await addOrchestrator(world.governance);
      narrator.check(true, `operator registered orchestrator ${ORCHESTRATOR_ID} (key ${jkt.slice(0, 12)}…) for ${WORKFLOW_ID}`);
      // Open the operator's issuer channel now, so a later revocation's timing is the revocation's.
      await world.governance.operatorIssuer.getKeys({});
      return span.spanContext().traceId;
    },
    { root: true },
  );
}

async function report(world: DemoWorld, narrator: Narrator, options: DemoOptions, traced: readonly { step: string; traceId: string | null }[]): Promise<void> {
  const spans = readSpans(world.spanFile);
  if (!narrator.json) {
    narrator.section('Traces (OpenTelemetry): one per step, across processes');
    narrator.say(renderStepTraces(spans, traced).trimEnd());
  }
  if (options.otlp) {
    try {
      const n = await exportSpansOtlp(options.otlp, spans);
      if (!narrator.json) narrator.check(true, `exported ${n} spans to ${options.otlp.href}`);
    } catch (err) {
      process.stderr.write(`[demo] OTLP export to ${options.otlp.href} failed: ${err instanceof Error ? err.message : String(err)}\n`);
    }
  }
}

/** Runs `body` against a freshly started system. */
export async function runScenario(
  options: DemoOptions,
  narrator: Narrator,
  title: string,
  body: (world: DemoWorld) => Promise<ScenarioResult>,
): Promise<boolean> {
  const seed = options.seed ?? newSeed();
  narrator.say(`Baton demo: ${title} (seed ${seed}; rerun with --seed ${seed})`);
  narrator.section('Setup: every party is its own process, talking gRPC');
  const world = await startWorld(seed);
  const tracing = setupProcessTracing('demo-driver', world.spanFile);
  let result: ScenarioResult = { records: [] };
  let ok = false;
  const traced: { step: string; traceId: string | null }[] = [];
  try {
    traced.push({ step: 'setup', traceId: await setUp(world, narrator) });
    result = await body(world);
    traced.push(...result.records.map((r) => ({ step: r.step, traceId: r.traceId })));
    ok = result.records.length > 0 && result.records.every((r) => r.ok);
  } finally {
    // Stopped processes have written every span they ended.
    await world.stop();
    await tracing.forceFlush();
    await report(world, narrator, options, traced);
    await tracing.shutdown();
    if (ok) world.removeDir();
    else {
      world.keepDir();
      process.stderr.write(`[demo] kept ${world.dir} for inspection (span file, authority data, keys)\n`);
    }
  }
  narrator.summary({ ok, steps: result.records.length, auditEntries: result.auditEntries ?? 0, checkpointVerified: result.checkpointVerified ?? false });
  return ok;
}
