/**
 * Reading the spool back after a restart (or a crash). Every line is checked; a torn
 * tail of the newest segment is cut off (it was never acknowledged to the caller), and a
 * bad line anywhere else is skipped and reported.
 */
import { readFileSync, readdirSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { sha256Hex } from '@baton/core';
import type { AuditEventInput } from './event.js';
import type { SpoolRecord } from './spool.js';

/** Check value of a spool line: the first 16 hex of SHA-256(`<seq>\t<json>`). */
export const lineCheck = (seq: number, json: string): string => sha256Hex(`${seq}\t${json}`).slice(0, 16);

/** A segment file and the sequences it holds. */
export interface Segment {
  readonly name: string;
  readonly firstSeq: number;
  lastSeq: number;
  size: number;
}

const SEGMENT = /^seg-(\d{16})\.log$/;

/** Parses one line (without its newline); undefined when it fails any check. */
export function parseSpoolLine(line: string): { seq: number; event: AuditEventInput } | undefined {
  const a = line.indexOf('\t');
  const b = a < 0 ? -1 : line.indexOf('\t', a + 1);
  if (b < 0) return undefined;
  const seq = Number(line.slice(0, a));
  const json = line.slice(b + 1);
  if (!Number.isSafeInteger(seq) || seq <= 0 || line.slice(a + 1, b) !== lineCheck(seq, json)) return undefined;
  try {
    const event: unknown = JSON.parse(json);
    return typeof event === 'object' && event !== null && !Array.isArray(event) ? { seq, event: event as AuditEventInput } : undefined;
  } catch {
    return undefined;
  }
}

/** Reads every segment in `dir`, returning the unacknowledged records in order. */
export function readSegments(
  dir: string,
  acked: number,
  onCorrupt?: (detail: string) => void,
): { segments: Segment[]; records: SpoolRecord[] } {
  const names = readdirSync(dir)
    .filter((n) => SEGMENT.test(n))
    .sort();
  const segments: Segment[] = [];
  const records: SpoolRecord[] = [];
  let lastSeq = 0;
  names.forEach((name, i) => {
    const path = join(dir, name);
    const buf = readFileSync(path);
    const newest = i === names.length - 1;
    const seg: Segment = { name, firstSeq: Number(SEGMENT.exec(name)![1]), lastSeq: 0, size: buf.length };
    let offset = 0;
    while (offset < buf.length) {
      const nl = buf.indexOf(0x0a, offset);
      const end = nl < 0 ? buf.length : nl;
      const parsed = nl < 0 ? undefined : parseSpoolLine(buf.subarray(offset, end).toString('utf8'));
      if (!parsed || parsed.seq <= lastSeq) {
        if (newest && (nl < 0 || nl === buf.length - 1)) {
          // Torn write at the very end: cut it off so new lines start clean.
          truncateSync(path, offset);
          seg.size = offset;
          break;
        }
        onCorrupt?.(`${name}: unreadable line at byte ${offset} skipped`);
      } else {
        lastSeq = parsed.seq;
        seg.lastSeq = parsed.seq;
        if (parsed.seq > acked) records.push({ seq: parsed.seq, event: parsed.event, bytes: end + 1 - offset });
      }
      offset = end + 1;
    }
    if (seg.lastSeq === 0) seg.lastSeq = seg.firstSeq - 1;
    segments.push(seg);
  });
  return { segments, records };
}
