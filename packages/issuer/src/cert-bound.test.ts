import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAccessTokenClaims, sha256B64url } from '@baton/core';
import { codeOf, startHarness, STORES, type Harness } from './testing/harness.js';

function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
}

// RFC 8705: a token may be bound to the holder's X.509-SVID alone (no `cnf.jkt`), for
// calls over mTLS where the handshake proves possession.
describe.each(STORES)('certificate-bound tokens (%s)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness(kind, 'certbound');
  });
  afterAll(async () => h?.close());

  const x5t = sha256B64url('the holder certificate DER');

  it('issues cnf with only x5t#S256 when key_thumbprint is empty, and introspects it as active', async () => {
    const agent = h.newAgent();
    const res = await h.issue(agent, { keyThumbprint: '', certificateThumbprint: x5t });
    const claims = parseAccessTokenClaims(payloadOf(res.accessToken));
    expect(claims.cnf).toEqual({ 'x5t#S256': x5t });
    const intro = await h.client.introspect({ token: res.accessToken });
    expect(intro).toMatchObject({ active: true, sub: agent.sub, cnfJkt: '' });
  });

  it('binds to both when both are given', async () => {
    const agent = h.newAgent();
    const res = await h.issue(agent, { certificateThumbprint: x5t });
    expect(parseAccessTokenClaims(payloadOf(res.accessToken)).cnf).toEqual({ jkt: agent.key.thumbprint, 'x5t#S256': x5t });
  });

  it.each([
    ['neither binding', { keyThumbprint: '', certificateThumbprint: '' }],
    ['an empty key binding with a malformed certificate thumbprint', { keyThumbprint: '', certificateThumbprint: 'short' }],
  ])('refuses %s', async (_name, over) => {
    expect(await codeOf(h.issue(h.newAgent(), over))).toBe('ERR_INVALID_ARGUMENT');
  });
});
