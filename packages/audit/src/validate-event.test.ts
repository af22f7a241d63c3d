import { describe, expect, it } from 'vitest';
import type { AuditEventInput } from './event.js';
import { AUDIT_EVENT_TYPES } from './event-types.js';
import { inputEvent } from './testing/fixtures.js';
import { AUDIT_LIMITS, validateEvent } from './validate-event.js';

const code = (c: string) => expect.objectContaining({ code: c });

describe('validateEvent', () => {
  it('normalizes a minimal event with defaults', () => {
    const e = validateEvent({ eventId: 'a'.repeat(16), time: 5, type: 'validation.denied', source: 'guard:payments' });
    expect(e).toMatchObject({ outcome: 'deny', agent: '', count: 1, firstTime: 0, attributes: {}, intermediateAgents: [] });
  });

  it('accepts every listed type with its default outcome', () => {
    for (const type of AUDIT_EVENT_TYPES) expect(validateEvent(inputEvent({ type })).type).toBe(type);
    expect(AUDIT_EVENT_TYPES).toEqual(expect.arrayContaining(['launch_token.replayed', 'key.rotated', 'handshake.failed', 'anomaly.revoked']));
  });

  it('accepts an aggregated read', () => {
    const e = validateEvent(inputEvent({ type: 'validation.allowed', count: 40, firstTime: 10, lastTime: 20 }));
    expect(e).toMatchObject({ count: 40, firstTime: 10, lastTime: 20 });
  });

  const big = (n: number) => 'x'.repeat(n + 1);
  const malformed: Array<[string, Partial<AuditEventInput> | Record<string, unknown>]> = [
    ['unknown type', { type: 'token.exploded' }],
    ['type with prototype name', { type: 'constructor' }],
    ['short event id', { eventId: 'abc' }],
    ['event id with slash', { eventId: 'a/'.repeat(10) }],
    ['missing time', { time: 0 }],
    ['fractional time', { time: 1.5 }],
    ['negative depth', { delegationDepth: -1 }],
    ['string depth', { delegationDepth: '2' }],
    ['outcome contradicting type', { type: 'validation.denied', outcome: 'allow' }],
    ['unknown outcome', { outcome: 'maybe' }],
    ['bad trace id', { traceId: 'XYZ' }],
    ['uppercase span id', { spanId: 'ABCDEF0123456789' }],
    ['bad source', { source: 'has space' }],
    ['control char in agent', { agent: 'spiffe://x/\u0007' }],
    ['newline in resource', { resource: 'a\nb' }],
    ['lone surrogate', { action: 'a\ud800b' }],
    ['non-string attribute', { attributes: { status: 5 } }],
    ['bad attribute key', { attributes: { 'Bad-Key': 'v' } }],
    ['proto attribute key', { attributes: JSON.parse('{"__proto__":"x"}') }],
    ['attributes array', { attributes: ['a'] }],
    ['aggregated write', { type: 'token.issued', count: 3, firstTime: 1, lastTime: 2 }],
    ['aggregate times reversed', { type: 'validation.allowed', count: 3, firstTime: 5, lastTime: 2 }],
    ['times without aggregation', { firstTime: 5 }],
    ['intermediate agents not array', { intermediateAgents: 'x' }],
  ];
  it.each(malformed)('rejects %s with ERR_AUDIT_EVENT_INVALID', (_d, over) => {
    expect(() => validateEvent({ ...inputEvent(), ...over })).toThrowError(code('ERR_AUDIT_EVENT_INVALID'));
  });

  it.each([null, 'event', 42, []])('rejects a non-object %j', (v) => {
    expect(() => validateEvent(v)).toThrowError(code('ERR_AUDIT_EVENT_INVALID'));
  });

  const oversized: Array<[string, Partial<AuditEventInput>]> = [
    ['attribute value', { attributes: { status: big(AUDIT_LIMITS.attributeValueBytes) } }],
    ['too many attributes', { attributes: Object.fromEntries(Array.from({ length: AUDIT_LIMITS.attributes + 1 }, (_, i) => [`k${i}`, 'v'])) }],
    ['reason detail', { reasonDetail: big(AUDIT_LIMITS.reasonDetailBytes) }],
    ['resource', { resource: big(AUDIT_LIMITS.targetBytes) }],
    ['agent', { agent: big(AUDIT_LIMITS.agentBytes) }],
    ['multi-byte attribute', { attributes: { status: '€'.repeat(AUDIT_LIMITS.attributeValueBytes / 3 + 1) } }],
    ['too many intermediate agents', { intermediateAgents: Array.from({ length: AUDIT_LIMITS.intermediateAgents + 1 }, () => 'a') }],
  ];
  it.each(oversized)('rejects an oversized %s with ERR_MESSAGE_TOO_LARGE', (_d, over) => {
    expect(() => validateEvent(inputEvent(over))).toThrowError(code('ERR_MESSAGE_TOO_LARGE'));
  });

  it('accepts values exactly at the limit', () => {
    const e = validateEvent(inputEvent({ attributes: { status: 'x'.repeat(AUDIT_LIMITS.attributeValueBytes) } }));
    expect(e.attributes.status!.length).toBe(AUDIT_LIMITS.attributeValueBytes);
  });
});
