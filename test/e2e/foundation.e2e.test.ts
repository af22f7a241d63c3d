/**
 * Issue 2, end to end: the authority as a real process, an orchestrator minting a launch
 * token, an agent process registering and calling the guarded payments server process
 * over gRPC, one trace across every process, and the observable attacks of the
 * foundation's bad-input list denied with their codes.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { trace } from '@opentelemetry/api';
import { createAgent } from '@baton/agent';
import type { Agent } from '@baton/agent';
import { b64urlDecode, b64urlEncode, generateKeyPair, isBatonError } from '@baton/core';
import type { Scope } from '@baton/core';
import { dpopMetadata } from '@baton/guard';
import { createClient } from '@baton/proto';
import type { Client } from '@baton/proto';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';
import { readSpanFile, setupTracing } from '@baton/telemetry';
import type { SpanRecord, TracingHandle } from '@baton/telemetry';
import { startBatonSystem } from '../support/baton-system.js';
import type { BatonSystem } from '../support/baton-system.js';
import { stopAllProcesses } from '../support/processes.js';
import { traceparentOfActiveSpan } from '../support/trace-context.js';

const CEILING: readonly Scope[] = [
  { action: 'approve', resource: 'payments', constraints: { amount: { min: 0, max: 10_000 } } },
  { action: 'read', resource: 'invoices' },
  { action: 'read', resource: 'vendors' },
];
const APPROVE = `/${PaymentsService.typeName}/ApproveInvoice`;
const GET_INVOICE = `/${PaymentsService.typeName}/GetInvoice`;
const INVOICE = { invoiceId: 'inv-1001', amount: 4000, vendor: 'acme-supplies' };

let system: BatonSystem;
let tracing: TracingHandle;
let payments: Client<typeof PaymentsService>;

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isBatonError(err)) return err.code;
    throw err;
  }
  return 'ALLOWED';
}

beforeAll(async () => {
  system = await startBatonSystem({ workflowId: 'e2e-foundation', ceiling: CEILING, audiences: ['payments', 'ledger'] });
  tracing = setupTracing({ serviceName: 'e2e-test', exporter: 'file', filePath: system.spanFile });
  payments = createClient(PaymentsService, system.paymentsAddress);
});

afterAll(async () => {
  payments?.close();
  await stopAllProcesses();
  await tracing?.shutdown();
  system?.cleanup();
});

describe('one credential end to end, across real processes', () => {
  it('an agent process registers with a launch token and the guarded payments server allows its call; one trace spans every process', async () => {
    let traceId = '';
    const { agent, reply } = await trace.getTracer('e2e').startActiveSpan('e2e: foundation', async (span) => {
      traceId = span.spanContext().traceId;
      try {
        const launchToken = await system.mint('task-trace');
        const traceparent = traceparentOfActiveSpan();
        const agent = await system.spawnAgent('clerk', launchToken, { TRACEPARENT: traceparent });
        const reply = await agent.command<Record<string, unknown>>('approve', { ...INVOICE, traceparent });
        return { agent, reply };
      } finally {
        span.end();
      }
    });

    expect(agent.first['event']).toBe('ready');
    expect(agent.first['spiffeId']).toMatch(new RegExp(`^spiffe://baton\\.local/agent/${system.orchestratorId}/task-trace/[A-Za-z0-9_-]{22}$`));
    // The SDK consumed the launch token and removed it from the agent's environment.
    expect(agent.first['launchTokenInEnv']).toBe(false);
    expect(reply.ok).toBe(true);
    expect(reply.result).toMatchObject({ outcome: 'allow', approvedBy: agent.first['spiffeId'], principal: 'user:vp', depth: 0 });
    expect((await agent.command('release')).ok).toBe(true);
    await agent.stop();

    // The payments server ends its span as it answers; poll the file until it is there.
    let spans: SpanRecord[] = [];
    await vi.waitFor(
      () => {
        spans = readSpanFile(system.spanFile).filter((s) => s.traceId === traceId);
        expect(spans.some((s) => s.service === 'payments' && s.kind === 'SERVER')).toBe(true);
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(new Set(spans.map((s) => s.service))).toEqual(new Set(['e2e-test', 'baton-authority', 'agent:clerk', 'payments']));

    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const one = (service: string, kind: string, name: string): SpanRecord => {
      const found = spans.filter((s) => s.service === service && s.kind === kind && s.name === name);
      expect(found, `${service} ${kind} ${name}`).toHaveLength(1);
      return found[0]!;
    };
    // Each hop continues the caller's span across the process boundary.
    const registerClient = one('agent:clerk', 'CLIENT', 'baton.identity.v1.IdentityService/Register');
    expect(one('baton-authority', 'SERVER', 'baton.identity.v1.IdentityService/Register').parentSpanId).toBe(registerClient.spanId);
    const approveClient = one('agent:clerk', 'CLIENT', 'baton.demo.v1.PaymentsService/ApproveInvoice');
    expect(one('payments', 'SERVER', 'baton.demo.v1.PaymentsService/ApproveInvoice').parentSpanId).toBe(approveClient.spanId);
    const mintClient = one('e2e-test', 'CLIENT', 'baton.identity.v1.IdentityService/CreateLaunchToken');
    expect(one('baton-authority', 'SERVER', 'baton.identity.v1.IdentityService/CreateLaunchToken').parentSpanId).toBe(mintClient.spanId);
    // One tree: every span but the test's root has its parent in the same trace.
    const roots = spans.filter((s) => s.parentSpanId === undefined || !byId.has(s.parentSpanId));
    expect(roots.map((s) => s.name)).toEqual(['e2e: foundation']);
  });
});

describe('adversarial input, observed end to end', () => {
  let agent: Agent;
  let skewMs = 0;

  beforeAll(async () => {
    agent = await createAgent({
      authority: system.authorityAddress,
      launchToken: await system.mint('task-adversarial'),
      name: 'probe',
      heartbeat: false,
      env: {},
      clock: { now: () => Date.now() + skewMs },
    });
  });

  afterAll(async () => {
    await agent?.release().catch(() => undefined);
  });

  const tamperedToken = (claims: (c: Record<string, unknown>) => void): string => {
    const [h, p, s] = agent.token().split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(b64urlDecode(p)).toString('utf8')) as Record<string, unknown>;
    claims(payload);
    return `${h}.${b64urlEncode(Buffer.from(JSON.stringify(payload)))}.${s}`;
  };

  it.each<[string, () => Record<string, string>, Record<string, unknown>, string]>([
    ['no credentials at all', () => ({}), INVOICE, 'ERR_TOKEN_MISSING'],
    ['a token presented without a proof', () => ({ authorization: `DPoP ${agent.token()}` }), INVOICE, 'ERR_PROOF_MISSING'],
    ['a token presented as a bearer token', () => ({ authorization: `Bearer ${agent.token()}` }), INVOICE, 'ERR_PROOF_MISSING'],
    ['a proof signed by another key', () => dpopMetadata(generateKeyPair(), agent.token(), APPROVE), INVOICE, 'ERR_PROOF_KEY_MISMATCH'],
    ['a proof made for another method', () => ({ ...agent.callMetadata(GET_INVOICE) }), INVOICE, 'ERR_PROOF_METHOD_MISMATCH'],
    [
      'a stale proof (iat two minutes old)',
      () => {
        skewMs = -120_000;
        try {
          return { ...agent.callMetadata(APPROVE) };
        } finally {
          skewMs = 0;
        }
      },
      INVOICE,
      'ERR_PROOF_STALE',
    ],
    [
      'a token whose payload was edited to a $50,000 ceiling',
      () => ({
        authorization: `DPoP ${tamperedToken((c) => {
          c['scope'] = 'approve:payments read:invoices read:vendors';
          c['scopes'] = [{ action: 'approve', resource: 'payments', constraints: { amount: { min: 0, max: 50_000 } } }];
        })}`,
        dpop: agent.callMetadata(APPROVE).dpop,
      }),
      INVOICE,
      'ERR_TOKEN_SIGNATURE_INVALID',
    ],
    [
      'a token with alg none',
      () => {
        const [, p] = agent.token().split('.');
        const header = b64urlEncode(Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })));
        return { authorization: `DPoP ${header}.${p}.`, dpop: agent.callMetadata(APPROVE).dpop };
      },
      INVOICE,
      'ERR_ALG_NOT_ALLOWED',
    ],
    ['over-size metadata (20 KiB)', () => ({ ...agent.callMetadata(APPROVE), 'x-padding': 'a'.repeat(20 * 1024) }), INVOICE, 'ERR_METADATA_TOO_LARGE'],
    ['an over-size message (70 KiB)', () => ({ ...agent.callMetadata(APPROVE) }), { ...INVOICE, vendor: 'v'.repeat(70 * 1024) }, 'ERR_MESSAGE_TOO_LARGE'],
  ])('denies %s', async (_name, metadata, request, code) => {
    expect(await codeOf(payments.approveInvoice(request, { metadata: metadata() }))).toBe(code);
  });

  it('denies a replayed proof, after the original was allowed', async () => {
    const md = { ...agent.callMetadata(APPROVE) };
    expect(await codeOf(payments.approveInvoice(INVOICE, { metadata: md }))).toBe('ALLOWED');
    expect(await codeOf(payments.approveInvoice(INVOICE, { metadata: md }))).toBe('ERR_PROOF_REPLAYED');
  });

  it('the denied attempts consumed nothing: the agent still gets through, and still only within its scope', async () => {
    const client = agent.client(PaymentsService, system.paymentsAddress);
    expect(await codeOf(client.approveInvoice(INVOICE))).toBe('ALLOWED');
    expect(await codeOf(client.approveInvoice({ invoiceId: 'inv-1003', amount: 50_000, vendor: 'initech' }))).toBe('ERR_CONSTRAINT_VIOLATED');
  });

  it('denies a token minted for another audience', async () => {
    const ledgerAgent = await createAgent({
      authority: system.authorityAddress,
      launchToken: await system.mint('task-ledger', { audiences: ['ledger'] }),
      heartbeat: false,
      env: {},
    });
    try {
      expect(ledgerAgent.audiences).not.toContain('payments');
      expect(await codeOf(ledgerAgent.client(PaymentsService, system.paymentsAddress).getInvoice({ invoiceId: 'inv-1001' }))).toBe('ERR_TOKEN_AUDIENCE_INVALID');
    } finally {
      await ledgerAgent.release();
    }
  });

  it('refuses a launch-token replay from another agent process, and an unknown launch token', async () => {
    const launchToken = await system.mint('task-replay');
    const first = await createAgent({ authority: system.authorityAddress, launchToken, heartbeat: false, env: {} });
    try {
      const replay = await system.spawnAgent('replayer', launchToken);
      expect(replay.first).toMatchObject({ event: 'failed', code: 'ERR_LAUNCH_TOKEN_REPLAYED' });
      expect(await replay.exit).toBe(1);
      // The legitimate holder is unaffected.
      expect(await codeOf(first.client(PaymentsService, system.paymentsAddress).getInvoice({ invoiceId: 'inv-1001' }))).toBe('ALLOWED');
    } finally {
      await first.release();
    }
    const unknown = `blt_${b64urlEncode(Buffer.alloc(32, 7))}`;
    expect(await codeOf(createAgent({ authority: system.authorityAddress, launchToken: unknown, heartbeat: false, env: {} }))).toBe('ERR_LAUNCH_TOKEN_INVALID');
  });
});
