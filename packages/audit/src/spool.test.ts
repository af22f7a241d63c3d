import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Spool } from './spool.js';
import { inputEvent } from './testing/fixtures.js';

let dir: string;
beforeEach(() => {
  dir = join(mkdtempSync(join(tmpdir(), 'baton-spool-')), 'spool');
});
afterEach(() => {
  rmSync(join(dir, '..'), { recursive: true, force: true });
});

const segmentFiles = () => readdirSync(dir).filter((f) => f.startsWith('seg-')).sort();

describe('spool', () => {
  it('keeps appended events across a reopen until acknowledged, in order', async () => {
    const s = await Spool.open({ dir, maxBytes: 1 << 20 });
    const events = Array.from({ length: 5 }, () => inputEvent());
    await s.append(events.slice(0, 2));
    await s.append(events.slice(2));
    expect(s.peek(10, 1 << 20).map((r) => r.event.eventId)).toEqual(events.map((e) => e.eventId));
    await s.ack(s.peek(2, 1 << 20)[1]!.seq);
    await s.close();

    const again = await Spool.open({ dir, maxBytes: 1 << 20 });
    expect(again.peek(10, 1 << 20).map((r) => r.event)).toEqual(events.slice(2));
    await again.append([inputEvent()]);
    const seqs = again.peek(10, 1 << 20).map((r) => r.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(4);
    await again.close();
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of segmentFiles()) expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
  });

  it('group-commits concurrent appends', async () => {
    const s = await Spool.open({ dir, maxBytes: 1 << 20 });
    await Promise.all(Array.from({ length: 50 }, () => s.append([inputEvent()])));
    expect(s.length).toBe(50);
    await s.close();
    expect((await Spool.open({ dir, maxBytes: 1 << 20 })).length).toBe(50);
  });

  it('refuses events beyond its bound with ERR_AUDIT_UNAVAILABLE, and accepts again once acknowledged', async () => {
    const s = await Spool.open({ dir, maxBytes: 2000 });
    let accepted = 0;
    for (;;) {
      try {
        await s.append([inputEvent()]);
        accepted++;
      } catch (err) {
        expect(err).toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
        break;
      }
    }
    expect(accepted).toBeGreaterThan(0);
    expect(s.bytes).toBeLessThanOrEqual(2000);
    await s.ack(s.peek(1, 1 << 20)[0]!.seq);
    await expect(s.append([inputEvent()])).resolves.toBeUndefined();
    await s.close();
  });

  it.each([
    ['a torn last line (no newline)', (t: string) => t.slice(0, t.length - 1 - 20)],
    ['a torn last line ending in a newline', (t: string) => `${t.slice(0, t.length - 30)}\n`],
    ['a half-written final record', (t: string) => `${t}7\tabc`],
  ])('skips %s safely and appends cleanly after it', async (_d, cut) => {
    const s = await Spool.open({ dir, maxBytes: 1 << 20 });
    const events = Array.from({ length: 3 }, () => inputEvent());
    await s.append(events);
    await s.close();
    const file = join(dir, segmentFiles()[0]!);
    writeFileSync(file, cut(readFileSync(file, 'utf8')));

    const again = await Spool.open({ dir, maxBytes: 1 << 20 });
    const kept = again.peek(10, 1 << 20).map((r) => r.event.eventId);
    expect(events.map((e) => e.eventId).slice(0, kept.length)).toEqual(kept);
    expect(kept.length).toBeGreaterThanOrEqual(2);
    const next = inputEvent();
    await again.append([next]);
    await again.close();
    const third = await Spool.open({ dir, maxBytes: 1 << 20 });
    expect(third.peek(10, 1 << 20).map((r) => r.event.eventId)).toEqual([...kept, next.eventId]);
    await third.close();
  });

  it('reports and skips a corrupt line in the middle', async () => {
    const s = await Spool.open({ dir, maxBytes: 1 << 20 });
    const events = Array.from({ length: 3 }, () => inputEvent());
    await s.append(events);
    await s.close();
    const file = join(dir, segmentFiles()[0]!);
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[1] = lines[1]!.replace('"token.issued"', '"token.forged"');
    writeFileSync(file, lines.join('\n'));
    const corrupt: string[] = [];
    const again = await Spool.open({ dir, maxBytes: 1 << 20, onCorrupt: (d) => corrupt.push(d) });
    expect(again.peek(10, 1 << 20).map((r) => r.event.eventId)).toEqual([events[0]!.eventId, events[2]!.eventId]);
    expect(corrupt.length).toBe(1);
    await again.close();
  });

  it('rolls segments and deletes the ones fully acknowledged', async () => {
    const s = await Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1500 });
    for (let i = 0; i < 12; i++) await s.append([inputEvent()]);
    expect(segmentFiles().length).toBeGreaterThan(2);
    const all = s.peek(100, 1 << 20);
    await s.ack(all[all.length - 2]!.seq);
    expect(segmentFiles().length).toBe(1);
    expect(s.length).toBe(1);
    await s.close();
    expect((await Spool.open({ dir, maxBytes: 1 << 20 })).peek(10, 1 << 20).map((r) => r.seq)).toEqual([all[all.length - 1]!.seq]);
  });

  it('ignores a damaged ack file by resending (never by dropping)', async () => {
    const s = await Spool.open({ dir, maxBytes: 1 << 20 });
    await s.append([inputEvent(), inputEvent()]);
    await s.ack(s.peek(1, 1 << 20)[0]!.seq);
    await s.close();
    appendFileSync(join(dir, 'ack'), 'garbage');
    expect((await Spool.open({ dir, maxBytes: 1 << 20 })).length).toBe(2);
  });
});
