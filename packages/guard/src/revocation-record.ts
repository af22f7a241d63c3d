/**
 * Conversion of the issuer's wire entries (RevocationEntry) into the view's records,
 * with strict checks: an entry the guard cannot understand is refused, not guessed at.
 */
import { BatonError } from '@baton/core';
import type { RevocationEntry } from './issuer-types.js';
import { RevocationLevel, RevocationReason } from './issuer-types.js';
import type { RevocationLevelName, RevocationReasonName, RevocationRecord } from './revocation-state.js';

const LEVELS = new Map<number, RevocationLevelName>([
  [RevocationLevel.TOKEN, 'token'],
  [RevocationLevel.AGENT, 'agent'],
  [RevocationLevel.TASK, 'task'],
  [RevocationLevel.WORKFLOW, 'workflow'],
  [RevocationLevel.KEY, 'key'],
  [RevocationLevel.HOP, 'hop'],
]);
const REASONS = new Map<number, RevocationReasonName>([
  [RevocationReason.MANUAL, 'manual'],
  [RevocationReason.RELEASED, 'released'],
  [RevocationReason.SUPERSEDED, 'superseded'],
  [RevocationReason.ANOMALY, 'anomaly'],
  [RevocationReason.HEARTBEAT, 'heartbeat'],
  [RevocationReason.KEY_COMPROMISE, 'key-compromise'],
  [RevocationReason.RENEWED, 'renewed'],
]);
const MAX_TARGET = 2048;

const bad = (detail: string): BatonError => new BatonError('ERR_INVALID_ARGUMENT', `revocation entry: ${detail}`);

function seconds(v: bigint, what: string): number {
  if (v < 0n || v > 253_402_300_799n) throw bad(`${what} out of range`);
  return Number(v);
}

/** Converts a wire entry; throws on anything malformed (the entry is then reported and skipped). */
export function revocationRecordOf(e: RevocationEntry): RevocationRecord {
  const level = LEVELS.get(e.level);
  if (level === undefined) throw bad(`unknown revocation level ${e.level}`);
  if (e.sequence <= 0n) throw bad('sequence must be positive');
  if (typeof e.target !== 'string' || e.target.length === 0 || e.target.length > MAX_TARGET) throw bad('malformed target');
  return Object.freeze({
    sequence: e.sequence,
    level,
    target: e.target,
    reason: REASONS.get(e.reason) ?? 'unspecified',
    createdAt: seconds(e.createdAt, 'created_at'),
    expiresAt: seconds(e.expiresAt, 'expires_at'),
    notAfterIat: seconds(e.notAfterIat, 'not_after_iat'),
  });
}
