import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { jwkThumbprint, verifyBytes } from '@baton/core';
import { AgentKey } from './agent-key.js';

describe('AgentKey', () => {
  it('signs with a fresh key whose thumbprint matches its public JWK', () => {
    const key = AgentKey.generate();
    expect(key.thumbprint).toBe(jwkThumbprint(key.publicJwk));
    const sig = key.sign(Buffer.from('hello'));
    expect(verifyBytes(Buffer.from('hello'), sig, key.unsafeKeyPair().publicKey)).toBe(true);
    expect(AgentKey.generate().thumbprint).not.toBe(key.thumbprint);
  });

  it('hands out a copy of the raw public key', () => {
    const key = AgentKey.generate();
    const raw = key.rawPublicKey;
    raw.fill(0);
    expect(key.rawPublicKey.equals(raw)).toBe(false);
  });

  it('shows only public facts in JSON and inspect', () => {
    const key = AgentKey.generate();
    const d = key.unsafeKeyPair().privateKey.export({ format: 'jwk' }).d!;
    const texts = [JSON.stringify(key), inspect(key, { showHidden: true, depth: Infinity }), JSON.stringify({ nested: [key] })];
    for (const t of texts) {
      expect(t).not.toContain(d);
      expect(t).toContain(key.thumbprint);
    }
    expect(Object.keys(key)).toEqual([]);
    expect(JSON.parse(JSON.stringify(key))).toEqual({ thumbprint: key.thumbprint, publicJwk: { ...key.publicJwk } });
  });
});
