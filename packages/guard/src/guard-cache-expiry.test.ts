/**
 * The guard's caches hold only what can still be used: a verified token goes when it
 * expires (exp + leeway), a holder key when no cached token bound to it is usable.
 */
import { ReplayCache, generateKeyPair, type ErrorCode, type KeyPair } from '@baton/core';
import { describe, expect, it } from 'vitest';
import { createGuard, type Guard } from './create-guard.js';
import type { GuardOptions } from './guard-options.js';
import { staticKeys } from './key-source.js';
import { AUDIENCE, HTU, ISSUER, fixture, type Fixture } from './testing/fixtures.js';

const approve = { action: 'approve', resource: 'invoice', attributes: { amount: 500 } };

function setup(extra: Partial<GuardOptions> = {}): { f: Fixture; guard: Guard } {
  const f = fixture();
  const guard = createGuard({
    audience: AUDIENCE,
    issuer: ISSUER,
    keys: staticKeys(new Map([[f.kid, f.issuerKey.publicKey]])),
    clock: f.clock,
    replayCache: new ReplayCache({ maxEntries: 1000 }),
    ...extra,
  });
  return { f, guard };
}

/** A token for `holder` expiring `lifetime` seconds from now, and a check of it with a fresh proof. */
function tokenFor(f: Fixture, holder: KeyPair, lifetime: number): string {
  const n = Math.floor(f.clock.now() / 1000);
  return f.mint({ exp: n + lifetime, cnf: { jkt: holder.thumbprint } });
}

async function use(f: Fixture, guard: Guard, token: string, holder: KeyPair): Promise<ErrorCode | 'ALLOW'> {
  const d = await guard.check({ token, proof: f.prove(token, { keyPair: holder }), htm: 'POST', htu: HTU, request: approve });
  return d.allow ? 'ALLOW' : d.code;
}

describe('guard caches: expiry', () => {
  it('drops a verified token and its holder key once the token expired (exp + leeway), without a lookup of it', async () => {
    const { f, guard } = setup();
    const alice = generateKeyPair();
    const bob = generateKeyPair();
    const t1 = tokenFor(f, alice, 60);
    expect(await use(f, guard, t1, alice)).toBe('ALLOW');
    expect(guard.cacheSizes()).toEqual({ tokens: 1, holderKeys: 1 });

    // Still usable inside the leeway: still cached.
    f.clock.advance(60_000 + 29_000);
    expect(await use(f, guard, t1, alice)).toBe('ALLOW');
    f.clock.advance(1_000);
    // Traffic for another holder: the sweep removes alice's token and key.
    const t2 = tokenFor(f, bob, 300);
    expect(await use(f, guard, t2, bob)).toBe('ALLOW');
    expect(guard.cacheSizes()).toEqual({ tokens: 1, holderKeys: 1 });
    // And the expired token is denied as such, not served from the cache.
    expect(await use(f, guard, t1, alice)).toBe('ERR_TOKEN_EXPIRED');
    expect(guard.cacheSizes()).toEqual({ tokens: 1, holderKeys: 1 });
  });

  it('keeps a holder key while a later token bound to it is still usable', async () => {
    const { f, guard } = setup();
    const alice = generateKeyPair();
    const short = tokenFor(f, alice, 60);
    const long = tokenFor(f, alice, 600);
    expect(await use(f, guard, short, alice)).toBe('ALLOW');
    expect(await use(f, guard, long, alice)).toBe('ALLOW');
    expect(guard.cacheSizes()).toEqual({ tokens: 2, holderKeys: 1 });
    f.clock.advance(120_000);
    expect(await use(f, guard, long, alice)).toBe('ALLOW');
    expect(guard.cacheSizes()).toEqual({ tokens: 1, holderKeys: 1 });
    f.clock.advance(600_000);
    expect(await use(f, guard, long, alice)).toBe('ERR_TOKEN_EXPIRED');
    expect(guard.cacheSizes()).toEqual({ tokens: 0, holderKeys: 0 });
  });

  it('keeps its size bounds against many distinct valid tokens and keys', async () => {
    const { f, guard } = setup({ tokenCacheSize: 3, keyCacheSize: 2 });
    for (let i = 0; i < 8; i++) {
      const holder = generateKeyPair();
      expect(await use(f, guard, tokenFor(f, holder, 3600), holder)).toBe('ALLOW');
    }
    expect(guard.cacheSizes()).toEqual({ tokens: 3, holderKeys: 2 });
  });

  it('an expired cached token costs a fresh verification and is never re-cached', async () => {
    const { f, guard } = setup();
    const alice = generateKeyPair();
    const t = tokenFor(f, alice, 60);
    expect(await use(f, guard, t, alice)).toBe('ALLOW');
    f.clock.advance(90_000);
    for (let i = 0; i < 3; i++) expect(await use(f, guard, t, alice)).toBe('ERR_TOKEN_EXPIRED');
    expect(guard.cacheSizes().tokens).toBe(0);
  });
});
