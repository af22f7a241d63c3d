import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { generateKeyPair } from '@baton/core';
import { keyRingReads, redactKeyRing, serialQueue, type PublishedKey } from './key-ring-parts.js';
import { recordOf, type KeyRing, type KeyStatus } from './key-ring.js';

// Every key keeps its private half here, retired or not: the reads must never show it.
const key = (status: KeyStatus, maxExp = 0): PublishedKey & { privateKey: unknown } => {
  const kp = generateKeyPair();
  return { ...recordOf(kp, status), privateKey: kp.privateKey, maxExp };
};

const mapOf = (...keys: PublishedKey[]) => new Map(keys.map((k) => [k.kid, k]));

describe('serialQueue', () => {
  it('runs calls one at a time in call order, even when one fails', async () => {
    const q = serialQueue();
    const log: string[] = [];
    const step = (name: string, ms: number, fail = false) =>
      q.run(async () => {
        log.push(`${name}:start`);
        await new Promise((r) => setTimeout(r, ms));
        log.push(`${name}:end`);
        if (fail) throw new Error(name);
        return name;
      });
    const a = step('a', 20);
    const b = step('b', 1, true);
    const c = step('c', 1);
    await expect(a).resolves.toBe('a');
    await expect(b).rejects.toThrow('b');
    await expect(c).resolves.toBe('c');
    expect(log).toEqual(['a:start', 'a:end', 'b:start', 'b:end', 'c:start', 'c:end']);
  });

  it('idle() waits for pending calls and does not reject after a failure', async () => {
    const q = serialQueue();
    let done = false;
    void q.run(async () => {
      await new Promise((r) => setTimeout(r, 10));
      done = true;
    });
    q.run(() => Promise.reject(new Error('x'))).catch(() => undefined);
    await expect(q.idle()).resolves.toBeUndefined();
    expect(done).toBe(true);
  });
});

describe('keyRingReads', () => {
  it('publishes active and retired keys, active first, never revoked ones', () => {
    const retired = key('retired', 100);
    const revoked = key('revoked', 50);
    const active = key('active');
    const reads = keyRingReads(() => mapOf(retired, revoked, active));
    expect(reads.jwks().keys.map((k) => k.kid)).toEqual([active.kid, retired.kid]);
    expect(reads.publicKey(active.kid)).toBe(active.publicKey);
    expect(reads.publicKey(retired.kid)).toBe(retired.publicKey);
    expect(reads.publicKey(revoked.kid)).toBeUndefined();
    expect(reads.publicKey('unknown')).toBeUndefined();
    expect(reads.publicKey(42 as unknown as string)).toBeUndefined();
    expect(reads.status(revoked.kid)).toBe('revoked');
    expect(reads.status('unknown')).toBeUndefined();
    expect(reads.revokedKids()).toEqual([revoked.kid]);
    expect(reads.list()).toEqual([
      { kid: retired.kid, status: 'retired', maxExp: 100 },
      { kid: revoked.kid, status: 'revoked', maxExp: 50 },
      { kid: active.kid, status: 'active', maxExp: 0 },
    ]);
  });

  it('reads the map as it is at call time (rings that swap it on reload)', () => {
    const first = key('active');
    const second = key('active');
    let current = mapOf(first);
    const reads = keyRingReads(() => current);
    expect(reads.jwks().keys.map((k) => k.kid)).toEqual([first.kid]);
    current = mapOf(second);
    expect(reads.jwks().keys.map((k) => k.kid)).toEqual([second.kid]);
    expect(reads.status(first.kid)).toBeUndefined();
  });

  it('hands out copies: editing a published JWK does not change the ring', () => {
    const active = key('active');
    const reads = keyRingReads(() => mapOf(active));
    (reads.jwks().keys[0] as { kid: string }).kid = 'tampered';
    expect(reads.jwks().keys[0]!.kid).toBe(active.kid);
  });
});

describe('redactKeyRing', () => {
  it('prints kids only, never the private key, in JSON and inspect', () => {
    const active = key('active');
    const secret = { d: 'SECRET-D-VALUE' };
    const ring = redactKeyRing({ activeKid: active.kid, secret, list: () => [{ kid: active.kid, status: 'active', maxExp: 0 }] } as unknown as KeyRing);
    const json = JSON.stringify(ring);
    expect(JSON.parse(json)).toEqual({ activeKid: active.kid, keys: [{ kid: active.kid, status: 'active', maxExp: 0 }] });
    expect(json).not.toContain('SECRET');
    const shown = inspect(ring, { depth: 10 });
    expect(shown.startsWith('KeyRing ')).toBe(true);
    expect(shown).not.toContain('SECRET');
    expect(Object.keys(ring)).not.toContain('toJSON');
  });
});
