/**
 * Test fixtures: an issuer key, a holder key, and a minter for access tokens signed with
 * core's signJws (the issuer package is not a dependency of the guard).
 */
import { createHmac } from 'node:crypto';
import {
  b64urlEncode,
  createProof,
  generateKeyPair,
  manualClock,
  randomId,
  signJws,
  type KeyPair,
  type ManualClock,
} from '@baton/core';

export const ISSUER = 'spiffe://baton.local/authority';
export const AUDIENCE = 'payments';
export const HTU = '/acme.payments.v1.Payments/Approve';
export const T0 = Date.UTC(2030, 0, 1, 12, 0, 0);

export interface Fixture {
  clock: ManualClock;
  issuerKey: KeyPair;
  kid: string;
  holder: KeyPair;
  /** Claims of a fresh, valid token; override any member. */
  claims(over?: Record<string, unknown>): Record<string, unknown>;
  /** Signs claims as an access token (header overridable). */
  mint(over?: Record<string, unknown>, header?: Record<string, unknown>, key?: KeyPair): string;
  /** A proof for `token` by the holder (or `keyPair`) at the current clock. */
  prove(token: string, over?: { htm?: string; htu?: string; keyPair?: KeyPair; nowMs?: number; accessToken?: string }): string;
}

export function fixture(): Fixture {
  const clock = manualClock(T0);
  const issuerKey = generateKeyPair();
  const kid = issuerKey.thumbprint;
  const holder = generateKeyPair();
  const iid = randomId(16);
  const claims = (over: Record<string, unknown> = {}): Record<string, unknown> => {
    const now = Math.floor(clock.now() / 1000);
    const base: Record<string, unknown> = {
      iss: ISSUER,
      sub: `spiffe://baton.local/agent/orch-1/task-1/${iid}`,
      aud: [AUDIENCE, ISSUER],
      exp: now + 300,
      iat: now,
      nbf: now,
      jti: randomId(16),
      scope: 'read:invoice:* approve:invoice',
      scopes: [
        { action: 'read', resource: 'invoice', id: '*' },
        { action: 'approve', resource: 'invoice', constraints: { amount: { max: 5000 } } },
      ],
      task_id: 'task-1',
      orch_id: 'orch-1',
      wf: 'invoices',
      principal: 'user:vp@acme.example',
      iid,
      tdl: now + 3600,
      rnw: 0,
      cnf: { jkt: holder.thumbprint },
    };
    for (const [k, v] of Object.entries(over)) {
      if (v === undefined) delete base[k];
      else base[k] = v;
    }
    return base;
  };
  return {
    clock,
    issuerKey,
    kid,
    holder,
    claims,
    mint: (over, header, key) => signJws({ typ: 'at+jwt', kid, ...header }, claims(over), (key ?? issuerKey).privateKey),
    prove: (token, over = {}) =>
      createProof({
        keyPair: over.keyPair ?? holder,
        htm: over.htm ?? 'POST',
        htu: over.htu ?? HTU,
        accessToken: over.accessToken ?? token,
        nowMs: over.nowMs ?? clock.now(),
      }),
  };
}

/** A compact JWS with any header and an arbitrary signature (for alg attacks). */
export function rawJws(header: Record<string, unknown>, payload: Record<string, unknown>, sign: (input: string) => string): string {
  const input = `${b64urlEncode(JSON.stringify(header))}.${b64urlEncode(JSON.stringify(payload))}`;
  return `${input}.${sign(input)}`;
}

/** HMAC-SHA-256 of `input` under `secret`, base64url (the classic alg-confusion forgery). */
export function hs256(input: string, secret: Uint8Array | string): string {
  return b64urlEncode(createHmac('sha256', secret).update(input).digest());
}
