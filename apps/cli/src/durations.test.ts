import { describe, expect, it } from 'vitest';
import { isBatonError } from '@baton/core';
import { formatDuration, parseCount, parseDuration, relativeTime } from './durations.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return isBatonError(err) ? err.code : 'not a BatonError';
  }
}

describe('durations', () => {
  it.each([
    ['300', 300],
    ['45s', 45],
    ['5m', 300],
    ['1h', 3600],
    ['7d', 604_800],
    [' 10m ', 600],
  ])('parses %j as %d s', (text, seconds) => {
    expect(parseDuration(text, 'ttl')).toBe(seconds);
  });

  it.each(['', 'm', '5x', '-5', '1.5h', '5 m', '0x10', '1e3', '10000000000'])('refuses %j with ERR_INVALID_ARGUMENT', (text) => {
    expect(codeOf(() => parseDuration(text, 'ttl'))).toBe('ERR_INVALID_ARGUMENT');
  });

  it('enforces bounds', () => {
    expect(codeOf(() => parseDuration('0', 'ttl'))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => parseDuration('31s', 'ttl', 1, 30))).toBe('ERR_INVALID_ARGUMENT');
    expect(parseDuration('30s', 'ttl', 1, 30)).toBe(30);
    expect(codeOf(() => parseCount('6', 'max-depth', 1, 5))).toBe('ERR_INVALID_ARGUMENT');
    expect(codeOf(() => parseCount('two', 'max-depth', 1, 5))).toBe('ERR_INVALID_ARGUMENT');
    expect(parseCount('5', 'max-depth', 1, 5)).toBe(5);
  });

  it('formats durations and relative times', () => {
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(59)).toBe('59s');
    expect(formatDuration(300)).toBe('5m');
    expect(formatDuration(3661)).toBe('1h 1m');
    expect(formatDuration(90_061)).toBe('1d 1h');
    expect(relativeTime(1000, 1000_000)).toBe('now');
    expect(relativeTime(1060, 1000_000)).toBe('in 1m');
    expect(relativeTime(990, 1000_000)).toBe('10s ago');
  });
});
