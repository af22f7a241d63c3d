import { manualClock } from '@baton/core';
import { describe, expect, it } from 'vitest';
import type { AuditEventInput } from './event.js';
import { createReadAggregator } from './read-aggregator.js';
import { inputEvent } from './testing/fixtures.js';
import { validateEvent } from './validate-event.js';

const read = (over: Partial<AuditEventInput> = {}) =>
  inputEvent({ type: 'validation.allowed', outcome: 'allow', action: 'read', resource: 'invoice', agent: 'spiffe://t/agent/o/t/aaaaaaaaaaaaaaaa', task: 't', ...over });

function setup(windowMs = 1000) {
  const clock = manualClock(1_000_000);
  const out: AuditEventInput[] = [];
  const agg = createReadAggregator({ windowMs, clock, flush: (e) => out.push(...e) });
  return { clock, out, agg };
}

describe('read aggregation', () => {
  it('folds repeated allowed reads in a window into one entry with count and first/last times', () => {
    const { clock, out, agg } = setup();
    const first = read({ time: 100 });
    expect(agg.offer(first)).toBe(true);
    for (let t = 101; t < 150; t++) expect(agg.offer(read({ time: t }))).toBe(true);
    expect(agg.held).toBe(50);
    clock.advance(999);
    agg.sweep();
    expect(out).toEqual([]);
    clock.advance(1);
    agg.sweep();
    expect(out).toHaveLength(1);
    expect(out[0]).toMatchObject({ eventId: first.eventId, count: 50, firstTime: 100, lastTime: 149 });
    expect(() => validateEvent(out[0])).not.toThrow();
    expect(agg.held).toBe(0);
  });

  it('keeps different agents, resources and actions apart, and passes a lone read through unchanged', () => {
    const { out, agg } = setup();
    const lone = read({ agent: 'spiffe://t/agent/o/t/bbbbbbbbbbbbbbbb' });
    agg.offer(lone);
    agg.offer(read());
    agg.offer(read());
    agg.offer(read({ resource: 'receipt' }));
    agg.offer(read({ action: 'list' }));
    agg.flushAll();
    expect(out).toHaveLength(4);
    expect(out[0]).toBe(lone);
    expect(out.map((e) => e.count ?? 1).sort()).toEqual([1, 1, 1, 2]);
  });

  it.each([
    ['a denied validation', { type: 'validation.denied', outcome: 'deny' }],
    ['a write', { action: 'write' }],
    ['an approval', { action: 'approve' }],
    ['a delegation', { type: 'delegation.granted', outcome: 'allow' }],
    ['a token issuance', { type: 'token.issued', outcome: 'allow' }],
    ['an already aggregated event', { count: 5, firstTime: 1, lastTime: 2 }],
  ] as Array<[string, Partial<AuditEventInput>]>)('never aggregates %s', (_d, over) => {
    const { agg } = setup();
    expect(agg.offer(read(over))).toBe(false);
    expect(agg.held).toBe(0);
  });

  it('flushes everything when it holds too many keys', () => {
    const clock = manualClock(0);
    const out: AuditEventInput[] = [];
    const agg = createReadAggregator({ clock, maxKeys: 3, flush: (e) => out.push(...e) });
    for (let i = 0; i < 4; i++) agg.offer(read({ resource: `r${i}` }));
    expect(out).toHaveLength(3);
    expect(agg.held).toBe(1);
  });
});
