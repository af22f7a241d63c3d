/**
 * Durations on the command line (`300`, `45s`, `5m`, `1h`, `7d`) and times shown to
 * people relative to now (`in 4m 12s`, `3s ago`).
 */
import { failure } from './cli-error.js';

const UNITS: Readonly<Record<string, number>> = Object.freeze({ s: 1, m: 60, h: 3600, d: 86_400 });
const DURATION_RE = /^(\d{1,9})([smhd]?)$/;

/**
 * Whole seconds from `300`, `45s`, `5m`, `1h` or `7d`, between `min` and `max`
 * (defaults 1 and 2^32 − 1, the range of the proto fields). ERR_INVALID_ARGUMENT.
 */
export function parseDuration(value: string, flagName: string, min = 1, max = 0xffff_ffff): number {
  const m = DURATION_RE.exec(value.trim());
  if (!m) throw failure('ERR_INVALID_ARGUMENT', `--${flagName} ${JSON.stringify(value)} is not a duration`, 'durations are whole seconds or a number with s, m, h or d, e.g. 300, 45s, 5m, 1h');
  const seconds = Number(m[1]) * UNITS[m[2] || 's']!;
  if (seconds < min || seconds > max) throw failure('ERR_INVALID_ARGUMENT', `--${flagName} must be between ${formatDuration(min)} and ${formatDuration(max)}`);
  return seconds;
}

/** A non-negative integer flag (`--max-renewals 10`) within [min, max]. */
export function parseCount(value: string, flagName: string, min: number, max: number): number {
  if (!/^\d{1,9}$/.test(value.trim())) throw failure('ERR_INVALID_ARGUMENT', `--${flagName} ${JSON.stringify(value)} is not a whole number`);
  const n = Number(value.trim());
  if (n < min || n > max) throw failure('ERR_INVALID_ARGUMENT', `--${flagName} must be between ${min} and ${max}`);
  return n;
}

/** `4m 12s`, `1h`, `2d 3h` (the two largest units). */
export function formatDuration(seconds: number): string {
  let rest = Math.round(Math.abs(seconds));
  if (rest < 60) return `${rest}s`;
  const parts: string[] = [];
  for (const [unit, size] of [['d', 86_400], ['h', 3600], ['m', 60], ['s', 1]] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.slice(0, 2).join(' ');
}

/** `in 4m 12s` / `3s ago` / `now`, for a NumericDate (seconds) against `nowMs`. */
export function relativeTime(epochSeconds: number, nowMs: number): string {
  const delta = epochSeconds - nowMs / 1000;
  if (Math.abs(delta) < 1) return 'now';
  return delta > 0 ? `in ${formatDuration(delta)}` : `${formatDuration(delta)} ago`;
}

/** ISO-8601 UTC for a NumericDate (seconds), or `-` when out of range. */
export function isoTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  return Number.isNaN(d.getTime()) ? '-' : d.toISOString().replace('.000Z', 'Z');
}
