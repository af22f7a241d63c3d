import { afterEach, describe, expect, it, vi } from 'vitest';
import { verifyChain } from './verify-chain.js';
import { chainKeyCacheSize } from './walk-chain.js';
import { ISSUER, NOW_MS, TestAuthority, buildChain } from './testing/chain-fixtures.js';

const authority = new TestAuthority();
const opts = { keys: authority.keys, now: NOW_MS, issuer: ISSUER };

describe('walkChain key cache', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps keys in use and drops keys idle for two minutes', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const a = buildChain(authority, 3);
    const before = chainKeyCacheSize();
    expect(verifyChain(a[3]!.token, opts).depth).toBe(3);
    const aKeys = chainKeyCacheSize() - before;
    expect(aKeys).toBe(3);

    // Used again within the idle bound: kept (and the bound restarts).
    vi.advanceTimersByTime(119_000);
    expect(verifyChain(a[3]!.token, opts).depth).toBe(3);
    vi.advanceTimersByTime(119_000);
    const b = buildChain(authority, 1);
    expect(verifyChain(b[1]!.token, opts).depth).toBe(1);
    expect(chainKeyCacheSize()).toBe(before + aKeys + 1);

    // Chain a idle for over two minutes: its keys go on the next walk; b's stay.
    vi.advanceTimersByTime(2_000);
    expect(verifyChain(b[1]!.token, opts).depth).toBe(1);
    expect(chainKeyCacheSize()).toBe(1);
    // A dropped key is simply imported again.
    expect(verifyChain(a[3]!.token, opts).depth).toBe(3);
    expect(chainKeyCacheSize()).toBe(1 + aKeys);
  });
});
