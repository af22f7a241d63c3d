import { describe, expect, it } from 'vitest';
import { sha256 } from './hash.js';
import { generateKeyPair, signBytes, verifyBytes } from './keys.js';
import { REGISTRATION_CONTEXT, registrationMessage } from './registration.js';

describe('registrationMessage', () => {
  const nonce = Buffer.alloc(32, 7);
  const token = 'blt_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
  const kp = generateKeyPair();

  it('is context || nonce || SHA-256(token) || public key, as bytes', () => {
    const msg = registrationMessage(nonce, token, kp.rawPublicKey);
    const ctx = Buffer.from('baton-register-v1\n', 'utf8');
    expect(REGISTRATION_CONTEXT).toBe('baton-register-v1\n');
    expect(msg.length).toBe(ctx.length + 32 + 32 + 32);
    expect(msg.subarray(0, ctx.length).equals(ctx)).toBe(true);
    expect(msg.subarray(ctx.length, ctx.length + 32).equals(nonce)).toBe(true);
    expect(msg.subarray(ctx.length + 32, ctx.length + 64).equals(sha256(token))).toBe(true);
    expect(msg.subarray(ctx.length + 64).equals(kp.rawPublicKey)).toBe(true);
  });

  it('binds every part: changing any one changes the message', () => {
    const base = registrationMessage(nonce, token, kp.rawPublicKey);
    const sig = signBytes(base, kp.privateKey);
    const variants = [
      registrationMessage(Buffer.alloc(32, 8), token, kp.rawPublicKey),
      registrationMessage(nonce, `${token.slice(0, -1)}B`, kp.rawPublicKey),
      registrationMessage(nonce, token, generateKeyPair().rawPublicKey),
    ];
    for (const v of variants) expect(verifyBytes(v, sig, kp.publicKey)).toBe(false);
    expect(verifyBytes(base, sig, kp.publicKey)).toBe(true);
  });

  it.each([
    ['nonce as string', () => registrationMessage('00' as unknown as Uint8Array, token, kp.rawPublicKey)],
    ['token as bytes', () => registrationMessage(nonce, Buffer.from(token) as unknown as string, kp.rawPublicKey)],
    ['key as string', () => registrationMessage(nonce, token, 'k' as unknown as Uint8Array)],
  ])('rejects %s with TypeError', (_n, f) => {
    expect(f).toThrow(TypeError);
  });
});
