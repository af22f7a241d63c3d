/**
 * A large SQLite audit log for the scale benchmark, built through the real log
 * (validation, sanitizer, hash chain, Merkle tree nodes, one signed checkpoint at the
 * end) in batches of 1000 with synchronous NORMAL: building it is not what is measured,
 * and it takes minutes on a small machine. So the file is kept in the OS temp directory
 * and reused while the @baton/audit build is byte-for-byte the same (the cache key is a
 * hash of its dist files); `--fresh` rebuilds it. Only the public key of its checkpoint
 * signer is kept.
 */
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createAuditLog, createNoteSigner, createSanitizer, createSqliteAuditStore } from '@baton/audit';
import { generateKeyPair } from '@baton/core';
import { auditEvents } from './audit-events.js';

/** Checkpoint origin of the benchmark logs. */
export const LOG_ORIGIN = 'baton.local/audit';
const BUILD_BATCH = 1000;
const CACHE_DIR = path.join(os.tmpdir(), 'baton-bench-cache');

/** A log file ready to verify. */
export interface PreparedLog {
  readonly file: string;
  /** `x` of the Ed25519 key that signed its checkpoint. */
  readonly publicX: string;
  /** How long building it took (in this run or the one that built it). */
  readonly buildSeconds: number;
  readonly reused: boolean;
}

/** Hash of every file of the installed @baton/audit build. */
function auditBuildKey(): string {
  const dir = path.dirname(fileURLToPath(import.meta.resolve('@baton/audit')));
  const h = createHash('sha256');
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.js')).sort()) h.update(f).update('\0').update(fs.readFileSync(path.join(dir, f)));
  return h.digest('hex').slice(0, 16);
}

/** Returns a verified-shape log of exactly `size` entries, from the cache or built now. */
export async function prepareLogFile(size: number, fresh: boolean): Promise<PreparedLog> {
  fs.mkdirSync(CACHE_DIR, { recursive: true, mode: 0o700 });
  const prefix = `audit-${size}-`;
  const file = path.join(CACHE_DIR, `${prefix}${auditBuildKey()}.db`);
  const meta = `${file}.json`;
  if (!fresh && fs.existsSync(file) && fs.existsSync(meta)) {
    const m = JSON.parse(fs.readFileSync(meta, 'utf8')) as { publicX: string; buildSeconds: number };
    return { file, publicX: m.publicX, buildSeconds: m.buildSeconds, reused: true };
  }
  // Files of other builds or sizes' older builds are dead weight (hundreds of MB each).
  for (const f of fs.readdirSync(CACHE_DIR)) if (f.startsWith(prefix)) fs.rmSync(path.join(CACHE_DIR, f), { force: true });

  const building = `${file}.building`;
  const key = generateKeyPair();
  const store = await createSqliteAuditStore({ path: building, synchronous: 'NORMAL' });
  const log = createAuditLog({ store, signer: createNoteSigner(LOG_ORIGIN, key), origin: LOG_ORIGIN, sanitizer: createSanitizer({ key: randomBytes(32) }), checkpointIntervalMs: 0 });
  const t = performance.now();
  try {
    for (let i = 0; i < size; i += BUILD_BATCH) {
      const res = await log.append(auditEvents(Math.min(BUILD_BATCH, size - i), i));
      if (res.some((r) => r.status !== 'accepted')) throw new Error('the audit log refused an event while building');
    }
    const cp = await log.checkpoint();
    if (cp.size !== size) throw new Error(`checkpoint at ${cp.size}, expected ${size}`);
  } finally {
    await log.close();
    await store.close();
  }
  const buildSeconds = (performance.now() - t) / 1000;
  // Fold the WAL into the main file, so the cached file stands alone.
  for (const suffix of ['-wal', '-shm']) if (fs.existsSync(building + suffix)) throw new Error(`${path.basename(building)}${suffix} left behind after close`);
  fs.renameSync(building, file);
  fs.writeFileSync(meta, JSON.stringify({ publicX: key.publicJwk.x, buildSeconds, size, createdAt: new Date().toISOString() }), { mode: 0o600 });
  return { file, publicX: key.publicJwk.x, buildSeconds, reused: false };
}
