import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trace } from '@opentelemetry/api';
import { BatonError, generateKeyPair, manualClock, type AuditRecord } from '@baton/core';
import { activeTraceIds, setupTracing } from '@baton/telemetry';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { parseCertificate } from '@baton/x509';
import type { IdentityContext } from './context.js';
import { memoryIdentityCa, type IdentityCa } from './identity-ca.js';
import { issueAgentSvid, type SvidSubject } from './svids.js';
import { TD, codeOf, startWithWorkflow, type Harness } from './testing/harness.js';

const DAY_MS = 86_400_000;

/** An audit sink that records what identity emits, and can fail chosen event types. */
function recordingSink() {
  const events: AuditRecord[] = [];
  const failing = new Set<string>();
  return {
    events,
    failing,
    of: (type: string) => events.filter((e) => e.type === type),
    sink: {
      async emit(r: AuditRecord) {
        if (failing.has(r.type)) throw new BatonError('ERR_AUDIT_UNAVAILABLE', 'injected audit outage');
        events.push(r);
      },
    },
  };
}

describe('SVID audit events', () => {
  let h: Harness;
  let ca: IdentityCa;
  const rec = recordingSink();
  beforeAll(async () => {
    const clock = { now: () => (h ? h.clock.now() : Date.now()) };
    // Short-lived CA so a test can bring it close to its end and watch it rotate.
    ca = memoryIdentityCa({ trustDomain: TD, clock, caTtlSeconds: 3 * 86_400, rotateBeforeSeconds: 86_400 });
    h = await startWithWorkflow('sqlite', 'svid-audit', { ca, audit: rec.sink });
  });
  afterAll(async () => {
    await h.close();
  });

  const renew = (a: { key: ReturnType<typeof generateKeyPair>; accessToken: string }) =>
    h.client.renewSvid({}, { metadata: h.dpop(a.key, a.accessToken, IdentityService.method.renewSvid) });

  it('Register records svid.issued with the agent, the signing CA, the serial and notAfter', async () => {
    const res = await h.register(await h.launchToken({ taskId: 'task-a' }), { over: { name: 'a' } });
    const serial = parseCertificate(res.svid!.certificate).serial.toString('hex');
    const ev = rec.of('svid.issued').find((e) => e.agent === res.spiffeId);
    expect(ev).toEqual({
      type: 'svid.issued',
      outcome: 'allow',
      source: 'identity',
      agent: res.spiffeId,
      workflow: 'invoices',
      orchestration: 'orch-1',
      task: 'task-a',
      principal: 'user:vp@acme.example',
      action: 'issue',
      resource: 'svid',
      reasonDetail: expect.any(String),
      attributes: { kid: ca.activeKid, serial, expires_at: String(res.svid!.notAfter), mode: 'registration' },
    });
    // Recorded before the registration completed.
    const order = rec.events.filter((e) => e.agent === res.spiffeId).map((e) => e.type);
    expect(order.indexOf('svid.issued')).toBeLessThan(order.indexOf('agent.registered'));
  });

  it('RenewSvid records svid.issued in renewal mode, with the new serial', async () => {
    const res = await h.register(await h.launchToken({ taskId: 'task-renew' }));
    h.clock.advance(100_000);
    const next = (await renew(res)).svid!;
    const issued = rec.of('svid.issued').filter((e) => e.agent === res.spiffeId);
    expect(issued.map((e) => e.attributes?.mode)).toEqual(['registration', 'renewal']);
    expect(issued[1]!.attributes).toEqual({
      kid: ca.activeKid,
      serial: parseCertificate(next.certificate).serial.toString('hex'),
      expires_at: String(next.notAfter),
      mode: 'renewal',
    });
    expect(issued[1]!.attributes!.serial).not.toBe(issued[0]!.attributes!.serial);
  });

  it.each<[string, string, () => Promise<void>, string]>([
    [
      'a superseded instance',
      'task-sup',
      async () => {
        await h.register(await h.launchToken({ taskId: 'task-sup', taskTtlSeconds: 120 }), { over: { name: 'sup' } });
      },
      'ERR_AGENT_SUPERSEDED',
    ],
    [
      'an agent whose task deadline passed (token still inside its leeway)',
      'task-deadline',
      async () => {
        h.clock.advance(125_000);
      },
      'ERR_TASK_DEADLINE_PASSED',
    ],
  ])('a refused RenewSvid for %s records svid.denied with the code', async (_name, taskId, after, code) => {
    const r = await h.register(await h.launchToken({ taskId, taskTtlSeconds: 120 }), { over: { name: 'sup' } });
    await after();
    const before = rec.of('svid.issued').length;
    expect(await codeOf(renew(r))).toBe(code);
    const denied = rec.of('svid.denied').filter((e) => e.agent === r.spiffeId);
    expect(denied).toHaveLength(1);
    expect(denied[0]).toMatchObject({
      type: 'svid.denied',
      outcome: 'deny',
      source: 'identity',
      agent: r.spiffeId,
      workflow: 'invoices',
      orchestration: 'orch-1',
      task: taskId,
      principal: 'user:vp@acme.example',
      reasonCode: code,
      attributes: { mode: 'renewal' },
    });
    expect(rec.of('svid.issued')).toHaveLength(before);
  });

  it('a CA rotated by issuance is recorded as key.rotated on resource identity_ca, before the SVID it signed', async () => {
    const oldKid = ca.activeKid;
    h.clock.advance(2 * DAY_MS + 60_000); // less than a day of CA life left
    const res = await h.register(await h.launchToken({ taskId: 'task-rot' }), { over: { name: 'rot' } });
    expect(ca.activeKid).not.toBe(oldKid);
    const rotated = rec.of('key.rotated');
    expect(rotated).toEqual([
      {
        type: 'key.rotated',
        outcome: 'info',
        source: 'identity',
        action: 'rotate',
        resource: 'identity_ca',
        reasonDetail: expect.stringContaining(oldKid),
        attributes: { kid: ca.activeKid, key_kind: 'ca_expiry' },
      },
    ]);
    const issued = rec.of('svid.issued').find((e) => e.agent === res.spiffeId)!;
    expect(issued.attributes?.kid).toBe(ca.activeKid);
    expect(rec.events.indexOf(rotated[0]!)).toBeLessThan(rec.events.indexOf(issued));
  });

  it('fails closed: when svid.issued cannot be recorded, no SVID is handed out', async () => {
    const res = await h.register(await h.launchToken({ taskId: 'task-outage' }), { over: { name: 'o' } });
    rec.failing.add('svid.issued');
    try {
      expect(await codeOf(renew(res))).toBe('ERR_AUDIT_UNAVAILABLE');
      expect(await codeOf(h.register(await h.launchToken({ taskId: 'task-outage' }), { over: { name: 'o2' } }))).toBe('ERR_AUDIT_UNAVAILABLE');
    } finally {
      rec.failing.delete('svid.issued');
    }
  });
});

describe('SVID audit without an identity CA', () => {
  let h: Harness;
  const rec = recordingSink();
  beforeAll(async () => {
    h = await startWithWorkflow('sqlite', 'svid-audit-noca', { audit: rec.sink });
  });
  afterAll(async () => {
    await h.close();
  });

  it('records the refused RenewSvid as svid.denied ERR_UNAVAILABLE, and registration emits no SVID event', async () => {
    const res = await h.register(await h.launchToken({ taskId: 'task-noca' }));
    expect(await codeOf(h.client.renewSvid({}, { metadata: h.dpop(res.key, res.accessToken, IdentityService.method.renewSvid) }))).toBe('ERR_UNAVAILABLE');
    expect(rec.of('svid.issued')).toEqual([]);
    expect(rec.of('svid.denied')).toMatchObject([{ agent: res.spiffeId, task: 'task-noca', reasonCode: 'ERR_UNAVAILABLE', outcome: 'deny' }]);
  });
});

describe('SVID audit trace correlation', () => {
  it('emits inside the caller’s span, so the audit client stamps its trace and span ids', async () => {
    const tracing = setupTracing({ serviceName: 'identity-svid-audit-test', exporter: 'memory' });
    try {
      const clock = manualClock(Date.now());
      const seen: { type: string; ids: ReturnType<typeof activeTraceIds> }[] = [];
      const ctx = {
        ca: memoryIdentityCa({ trustDomain: TD, clock }),
        clock,
        limits: { svidTtlSeconds: 900 },
        audit: { emit: async (r: AuditRecord) => void seen.push({ type: r.type, ids: activeTraceIds() }) },
      } as unknown as IdentityContext;
      const agent: SvidSubject = {
        spiffeId: `spiffe://${TD}/agent/orch-1/task-1/i1`,
        publicKey: generateKeyPair().rawPublicKey.toString('base64url'),
        taskDeadline: clock.now() + 3_600_000,
        workflowId: 'invoices',
        orchestrationId: 'orch-1',
        taskId: 'task-1',
        principal: 'user:p',
      };
      const span = await trace.getTracer('test').startActiveSpan('RenewSvid', async (s) => {
        await issueAgentSvid(ctx, agent, 'renewal');
        s.end();
        return s.spanContext();
      });
      expect(seen).toEqual([{ type: 'svid.issued', ids: { traceId: span.traceId, spanId: span.spanId } }]);
    } finally {
      await tracing.shutdown();
    }
  });
});
