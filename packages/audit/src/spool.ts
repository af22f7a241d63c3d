/**
 * The client's durable local spool: events are appended to segment files and fsynced
 * (group commit: every append waiting at the same time shares one write and one
 * fdatasync) before `append` resolves, and stay until the audit service acknowledges
 * them. The acknowledged position is kept in an `ack` file (atomic rename).
 *
 * Line format: `<seq>\t<check>\t<event JSON>\n`, where check is the first 16 hex of
 * SHA-256(`<seq>\t<json>`). On open, a torn last line (crash mid-write) fails the check
 * or lacks its newline: it was never acknowledged to the caller, so it is cut off.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { BatonError } from '@baton/core';
import type { AuditEventInput } from './event.js';
import { lineCheck, readSegments, type Segment } from './spool-recovery.js';

/** One spooled event. */
export interface SpoolRecord {
  readonly seq: number;
  readonly event: AuditEventInput;
  /** Size of its line on disk. */
  readonly bytes: number;
}

/** Options of {@link Spool.open}. */
export interface SpoolOptions {
  readonly dir: string;
  /** Most bytes of unacknowledged events on disk; beyond it `append` refuses. */
  readonly maxBytes: number;
  /** Segment file size before rolling to a new one. Default 4 MiB. */
  readonly segmentBytes?: number;
  /** Told about corrupt lines skipped on open (other than a torn last line). */
  readonly onCorrupt?: (detail: string) => void;
}

interface Pending {
  readonly records: SpoolRecord[];
  readonly text: string;
  resolve(): void;
  reject(err: unknown): void;
}

/** A durable FIFO of events on the local disk. */
export class Spool {
  readonly #o: Required<Omit<SpoolOptions, 'onCorrupt'>>;
  readonly #queue: SpoolRecord[] = [];
  readonly #segments: Segment[];
  readonly #waiters = new Set<() => void>();
  #fd: FileHandle | undefined;
  #next: number;
  #acked: number;
  #bytes: number;
  #pending: Pending[] = [];
  #flushing = false;
  #ackChain: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(o: Required<Omit<SpoolOptions, 'onCorrupt'>>, segments: Segment[], records: SpoolRecord[], acked: number) {
    this.#o = o;
    this.#segments = segments;
    this.#queue.push(...records);
    this.#acked = acked;
    this.#next = Math.max(acked, ...segments.map((s) => s.lastSeq), 0) + 1;
    this.#bytes = records.reduce((n, r) => n + r.bytes, 0);
  }

  /** Opens (creating if needed) the spool in `dir` and recovers what is on disk. */
  static async open(options: SpoolOptions): Promise<Spool> {
    if (!Number.isSafeInteger(options.maxBytes) || options.maxBytes <= 0) throw new TypeError('spool maxBytes must be a positive integer');
    mkdirSync(options.dir, { recursive: true, mode: 0o700 });
    const acked = readAck(options.dir);
    const { segments, records } = readSegments(options.dir, acked, options.onCorrupt);
    const spool = new Spool({ dir: options.dir, maxBytes: options.maxBytes, segmentBytes: options.segmentBytes ?? 4 * 1024 * 1024 }, segments, records, acked);
    await spool.#removeAcked();
    return spool;
  }

  /** Bytes of unacknowledged events (on disk or being written). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Number of durable, unacknowledged events. */
  get length(): number {
    return this.#queue.length;
  }

  /**
   * Durably appends events (all or none). Resolves after fdatasync. Throws
   * ERR_AUDIT_UNAVAILABLE when the spool would exceed its bound or is closed.
   */
  append(events: readonly AuditEventInput[]): Promise<void> {
    if (this.#closed) return Promise.reject(new BatonError('ERR_AUDIT_UNAVAILABLE', 'spool closed'));
    const lines: string[] = [];
    const records: SpoolRecord[] = [];
    let size = 0;
    let seq = this.#next;
    for (const event of events) {
      const json = JSON.stringify(event);
      const line = `${seq}\t${lineCheck(seq, json)}\t${json}\n`;
      const bytes = Buffer.byteLength(line);
      lines.push(line);
      records.push({ seq, event, bytes });
      size += bytes;
      seq++;
    }
    if (this.#bytes + size > this.#o.maxBytes) {
      return Promise.reject(new BatonError('ERR_AUDIT_UNAVAILABLE', `spool full (${this.#bytes} of ${this.#o.maxBytes} bytes)`));
    }
    this.#next = seq;
    this.#bytes += size;
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ records, text: lines.join(''), resolve, reject });
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending;
        this.#pending = [];
        try {
          const fd = await this.#segmentFor(batch[0]!.records[0]?.seq ?? this.#next);
          const buf = Buffer.from(batch.map((p) => p.text).join(''));
          await fd.write(buf);
          await fd.datasync();
          const seg = this.#segments[this.#segments.length - 1]!;
          seg.size += buf.length;
          for (const p of batch) {
            if (p.records.length > 0) seg.lastSeq = p.records[p.records.length - 1]!.seq;
            this.#queue.push(...p.records);
            p.resolve();
          }
          for (const w of this.#waiters) w();
        } catch (err) {
          for (const p of batch) {
            this.#bytes -= p.records.reduce((n, r) => n + r.bytes, 0);
            p.reject(new BatonError('ERR_AUDIT_UNAVAILABLE', `spool write failed: ${(err as Error).message}`, { cause: err }));
          }
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #segmentFor(firstSeq: number): Promise<FileHandle> {
    const last = this.#segments[this.#segments.length - 1];
    if (last && last.size < this.#o.segmentBytes) {
      this.#fd ??= await open(join(this.#o.dir, last.name), 'a', 0o600);
      return this.#fd;
    }
    await this.#fd?.close();
    const name = `seg-${String(firstSeq).padStart(16, '0')}.log`;
    this.#fd = await open(join(this.#o.dir, name), 'a', 0o600);
    this.#segments.push({ name, firstSeq, lastSeq: firstSeq - 1, size: 0 });
    syncDir(this.#o.dir);
    return this.#fd;
  }

  /** The oldest unacknowledged events, at most `maxRecords` and about `maxBytes`. */
  peek(maxRecords: number, maxBytes: number): readonly SpoolRecord[] {
    const out: SpoolRecord[] = [];
    let size = 0;
    for (const r of this.#queue) {
      if (out.length >= maxRecords || (out.length > 0 && size + r.bytes > maxBytes)) break;
      out.push(r);
      size += r.bytes;
    }
    return out;
  }

  /** Resolves when durable events are available (or immediately if some are). */
  waitForData(signal?: AbortSignal): Promise<void> {
    if (this.#queue.length > 0 || signal?.aborted) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const done = (): void => {
        this.#waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.#waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  /** Marks every event up to `seq` delivered: persisted, then dropped from disk. */
  ack(seq: number): Promise<void> {
    while (this.#queue.length > 0 && this.#queue[0]!.seq <= seq) this.#bytes -= this.#queue.shift()!.bytes;
    if (seq <= this.#acked) return this.#ackChain;
    this.#acked = seq;
    this.#ackChain = this.#ackChain.then(async () => {
      const tmp = join(this.#o.dir, 'ack.tmp');
      const fh = await open(tmp, 'w', 0o600);
      try {
        await fh.write(`${seq}\t${lineCheck(seq, 'ack')}\n`);
        await fh.datasync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(this.#o.dir, 'ack'));
      syncDir(this.#o.dir);
      await this.#removeAcked();
    });
    return this.#ackChain;
  }

  // Deletes segments whose events are all acknowledged (never the one being written).
  async #removeAcked(): Promise<void> {
    while (this.#segments.length > 1 && this.#segments[0]!.lastSeq <= this.#acked) {
      await rm(join(this.#o.dir, this.#segments.shift()!.name), { force: true });
    }
  }

  /** Waits for pending writes, then closes. Unacknowledged events stay on disk. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#flushing || this.#pending.length > 0) await new Promise((r) => setTimeout(r, 2));
    await this.#ackChain.catch(() => undefined);
    await this.#fd?.close();
    this.#fd = undefined;
    for (const w of this.#waiters) w();
  }
}

function readAck(dir: string): number {
  try {
    const [seq, check] = readFileSync(join(dir, 'ack'), 'utf8').trim().split('\t');
    const n = Number(seq);
    return Number.isSafeInteger(n) && n >= 0 && check === lineCheck(n, 'ack') ? n : 0;
  } catch {
    return 0; // no ack yet (or unreadable): resend everything, dedup makes it safe
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {
    // Some filesystems refuse fsync on directories; the data itself is already synced.
  }
}
