import crypto from 'node:crypto';
import { CompactSign, SignJWT, compactVerify, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { b64urlEncode } from './encoding.js';
import { isBatonError } from './errors.js';
import { decodeCompactJws, decodeJws, signCompact, signJws, verifyJws } from './jws.js';
import { generateKeyPair, importPrivateJwk, importPublicJwk, signBytes } from './keys.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isBatonError(err) ? err.code : `non-baton:${(err as Error).name}`;
  }
  return undefined;
}

// RFC 8037 Appendix A.1 / A.2 / A.4.
const RFC8037_PRIVATE = { kty: 'OKP', crv: 'Ed25519', d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
const RFC8037_PUBLIC = { kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' };
const A4_SIGNING_INPUT = 'eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc';
const A4_COMPACT = `${A4_SIGNING_INPUT}.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg`;

const seg = (v: unknown) => b64urlEncode(typeof v === 'string' ? v : JSON.stringify(v));

describe('RFC 8037 §A.4 / §A.5', () => {
  const kp = importPrivateJwk(RFC8037_PRIVATE);

  it('reproduces the exact compact JWS (Ed25519 is deterministic)', () => {
    const headerB64 = b64urlEncode('{"alg":"EdDSA"}');
    const payloadB64 = b64urlEncode('Example of Ed25519 signing');
    expect(`${headerB64}.${payloadB64}`).toBe(A4_SIGNING_INPUT);
    expect(signCompact(headerB64, payloadB64, kp.privateKey)).toBe(A4_COMPACT);
    expect(`${A4_SIGNING_INPUT}.${b64urlEncode(signBytes(Buffer.from(A4_SIGNING_INPUT), kp.privateKey))}`).toBe(A4_COMPACT);
  });

  it('signJws with an empty header produces the same protected header', () => {
    expect(signJws({}, { a: 1 }, kp.privateKey).split('.')[0]).toBe('eyJhbGciOiJFZERTQSJ9');
  });

  it('validates the example with the A.2 public key', () => {
    const d = decodeCompactJws(A4_COMPACT);
    expect(d.header).toEqual({ alg: 'EdDSA' });
    expect(Buffer.from(d.payloadB64, 'base64url').toString()).toBe('Example of Ed25519 signing');
    expect(verifyJws(d, importPublicJwk(RFC8037_PUBLIC))).toBe(true);
    expect(verifyJws(d, generateKeyPair().publicKey)).toBe(false);
  });

  it('decodeJws refuses it because its payload is not a JSON object', () => {
    expect(codeOf(() => decodeJws(A4_COMPACT))).toBe('ERR_JWS_INVALID');
  });
});

describe('signJws / decodeJws / verifyJws', () => {
  const kp = generateKeyPair();

  it('round-trips header and payload', () => {
    const jws = signJws({ typ: 'at+jwt', kid: 'k1' }, { sub: 'x', n: 1, nested: { a: [1, 2] } }, kp.privateKey);
    const d = decodeJws(jws);
    expect(d.header).toEqual({ alg: 'EdDSA', typ: 'at+jwt', kid: 'k1' });
    expect(Object.keys(d.header)[0]).toBe('alg');
    expect(d.payload).toEqual({ sub: 'x', n: 1, nested: { a: [1, 2] } });
    expect(d.compact).toBe(jws);
    expect(d.signingInput).toBe(jws.slice(0, jws.lastIndexOf('.')));
    expect(d.signature).toHaveLength(64);
    expect(verifyJws(d, kp.publicKey)).toBe(true);
  });

  it('forces alg EdDSA over whatever the caller passed', () => {
    expect(decodeJws(signJws({ alg: 'none' }, {}, kp.privateKey)).header.alg).toBe('EdDSA');
  });

  it('refuses crit and b64 when signing', () => {
    expect(() => signJws({ crit: ['exp'] }, {}, kp.privateKey)).toThrow(TypeError);
    expect(() => signJws({ b64: false }, {}, kp.privateKey)).toThrow(TypeError);
  });

  it('a tampered payload or header fails verification', () => {
    const jws = signJws({}, { amount: 10 }, kp.privateKey);
    const [h, , s] = jws.split('.');
    expect(verifyJws(decodeJws(`${h}.${seg({ amount: 1000 })}.${s}`), kp.publicKey)).toBe(false);
    expect(verifyJws(decodeJws(`${seg({ alg: 'EdDSA', kid: 'x' })}.${jws.split('.')[1]}.${s}`), kp.publicKey)).toBe(false);
  });

  it('verifyJws never throws on garbage', () => {
    const d = decodeJws(signJws({}, {}, kp.privateKey));
    expect(verifyJws({ signingInput: d.signingInput, signature: Buffer.alloc(3) }, kp.publicKey)).toBe(false);
    expect(verifyJws(undefined as never, kp.publicKey)).toBe(false);
    expect(verifyJws(d, undefined as never)).toBe(false);
  });
});

describe('interop with jose', () => {
  const kp = generateKeyPair();

  it('jose verifies what signJws produces', async () => {
    const jws = signJws({ typ: 'at+jwt' }, { sub: 'agent', exp: 4_000_000_000 }, kp.privateKey);
    const { payload, protectedHeader } = await compactVerify(jws, kp.publicKey);
    expect(protectedHeader).toEqual({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(JSON.parse(new TextDecoder().decode(payload))).toEqual({ sub: 'agent', exp: 4_000_000_000 });
    const jwt = await jwtVerify(jws, kp.publicKey, { typ: 'at+jwt' });
    expect(jwt.payload.sub).toBe('agent');
  });

  it('we accept what jose CompactSign and SignJWT produce with EdDSA', async () => {
    const compact = await new CompactSign(new TextEncoder().encode('{"hello":"world"}')).setProtectedHeader({ alg: 'EdDSA', kid: 'k' }).sign(kp.privateKey);
    const d1 = decodeJws(compact);
    expect(d1.payload).toEqual({ hello: 'world' });
    expect(verifyJws(d1, kp.publicKey)).toBe(true);

    const jwt = await new SignJWT({ scope: 'read:invoices' }).setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt' }).setIssuedAt(1_700_000_000).setExpirationTime(1_700_000_300).sign(kp.privateKey);
    const d2 = decodeJws(jwt);
    expect(d2.header).toEqual({ alg: 'EdDSA', typ: 'at+jwt' });
    expect(d2.payload).toEqual({ scope: 'read:invoices', iat: 1_700_000_000, exp: 1_700_000_300 });
    expect(verifyJws(d2, kp.publicKey)).toBe(true);
    expect(verifyJws(d2, generateKeyPair().publicKey)).toBe(false);
  });
});

describe('decodeJws attack table', () => {
  const kp = generateKeyPair();
  const good = signJws({ typ: 'at+jwt' }, { sub: 'a' }, kp.privateKey);
  const [gh, gp, gs] = good.split('.') as [string, string, string];
  const pubRaw = kp.rawPublicKey;
  const hmac = (secret: Uint8Array, input: string) => b64urlEncode(crypto.createHmac('sha256', secret).update(input).digest());
  const withHeader = (header: unknown, sig = gs) => `${seg(header)}.${gp}.${sig}`;

  // HS256 "signed" with the verifier's public key bytes as the HMAC secret: the classic
  // algorithm-confusion forgery. It must die on alg, before any key is involved.
  const hsInput = `${seg({ alg: 'HS256', typ: 'at+jwt' })}.${gp}`;
  const hsConfusion = `${hsInput}.${hmac(pubRaw, hsInput)}`;
  const hsPemInput = `${seg({ alg: 'HS256' })}.${gp}`;
  const hsPemConfusion = `${hsPemInput}.${hmac(Buffer.from(kp.publicKey.export({ format: 'pem', type: 'spki' })), hsPemInput)}`;
  // An HMAC under alg EdDSA: 32 bytes, wrong length.
  const hmacAsEdDsa = `${gh}.${gp}.${hmac(pubRaw, `${gh}.${gp}`)}`;

  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsInput = `${seg({ alg: 'RS256' })}.${gp}`;
  const rs256 = `${rsInput}.${b64urlEncode(crypto.sign('sha256', Buffer.from(rsInput), rsa.privateKey))}`;
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const esInput = `${seg({ alg: 'ES256' })}.${gp}`;
  const es256 = `${esInput}.${b64urlEncode(crypto.sign('sha256', Buffer.from(esInput), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }))}`;

  it.each([
    ['alg none, empty signature', `${seg({ alg: 'none' })}.${gp}.`, 'ERR_ALG_NOT_ALLOWED'],
    ['alg none, unsecured (two segments)', `${seg({ alg: 'none' })}.${gp}`, 'ERR_JWS_INVALID'],
    ['alg None', withHeader({ alg: 'None' }), 'ERR_ALG_NOT_ALLOWED'],
    ['alg eddsa (case)', withHeader({ alg: 'eddsa' }), 'ERR_ALG_NOT_ALLOWED'],
    ['alg Ed25519 (RFC 9864 name)', withHeader({ alg: 'Ed25519' }), 'ERR_ALG_NOT_ALLOWED'],
    ['alg as array', withHeader({ alg: ['EdDSA'] }), 'ERR_ALG_NOT_ALLOWED'],
    ['alg missing', withHeader({ typ: 'JWT' }), 'ERR_JWS_INVALID'],
    ['HS256 with public key bytes as secret', hsConfusion, 'ERR_ALG_NOT_ALLOWED'],
    ['HS256 with public key PEM as secret', hsPemConfusion, 'ERR_ALG_NOT_ALLOWED'],
    ['HMAC presented as EdDSA', hmacAsEdDsa, 'ERR_JWS_INVALID'],
    ['RS256', rs256, 'ERR_ALG_NOT_ALLOWED'],
    ['ES256', es256, 'ERR_ALG_NOT_ALLOWED'],
    ['crit', withHeader({ alg: 'EdDSA', crit: ['exp'], exp: 1 }), 'ERR_JWS_INVALID'],
    ['b64 false', withHeader({ alg: 'EdDSA', b64: false, crit: ['b64'] }), 'ERR_JWS_INVALID'],
    ['b64 false without crit', withHeader({ alg: 'EdDSA', b64: false }), 'ERR_JWS_INVALID'],
    ['one segment', gh, 'ERR_JWS_INVALID'],
    ['two segments', `${gh}.${gp}`, 'ERR_JWS_INVALID'],
    ['four segments', `${good}.${gs}`, 'ERR_JWS_INVALID'],
    ['five segments (JWE shape)', `${gh}.${gp}.${gs}.${gs}.${gs}`, 'ERR_JWS_INVALID'],
    ['empty header', `.${gp}.${gs}`, 'ERR_JWS_INVALID'],
    ['empty payload', `${gh}..${gs}`, 'ERR_JWS_INVALID'],
    ['empty string', '', 'ERR_JWS_INVALID'],
    ['not a string', 42, 'ERR_JWS_INVALID'],
    ['header padded', `${gh}=.${gp}.${gs}`, 'ERR_JWS_INVALID'],
    ['payload with +', `${gh}.+${gp.slice(1)}.${gs}`, 'ERR_JWS_INVALID'],
    ['payload with /', `${gh}./${gp.slice(1)}.${gs}`, 'ERR_JWS_INVALID'],
    ['signature non-canonical last char', `${gh}.${gp}.${gs.slice(0, 85)}${gs.endsWith('B') ? 'C' : 'B'}`, 'ERR_JWS_INVALID'],
    ['whitespace', ` ${good}`, 'ERR_JWS_INVALID'],
    ['duplicate alg in header', `${seg('{"alg":"EdDSA","alg":"none"}')}.${gp}.${gs}`, 'ERR_JWS_INVALID'],
    ['duplicate claim in payload', `${gh}.${seg('{"sub":"a","sub":"admin"}')}.${gs}`, 'ERR_JWS_INVALID'],
    ['__proto__ in payload', `${gh}.${seg('{"__proto__":{"admin":true}}')}.${gs}`, 'ERR_JWS_INVALID'],
    ['header is an array', `${seg('["EdDSA"]')}.${gp}.${gs}`, 'ERR_JWS_INVALID'],
    ['header is not JSON', `${seg('alg=EdDSA')}.${gp}.${gs}`, 'ERR_JWS_INVALID'],
    ['header invalid UTF-8', `${b64urlEncode(Buffer.from([0x7b, 0xff, 0x7d]))}.${gp}.${gs}`, 'ERR_JWS_INVALID'],
    ['payload is a string', `${gh}.${seg('"sub"')}.${gs}`, 'ERR_JWS_INVALID'],
    ['payload is null', `${gh}.${seg('null')}.${gs}`, 'ERR_JWS_INVALID'],
    ['signature 63 bytes', `${gh}.${gp}.${b64urlEncode(Buffer.alloc(63, 1))}`, 'ERR_JWS_INVALID'],
    ['signature 65 bytes', `${gh}.${gp}.${b64urlEncode(Buffer.alloc(65, 1))}`, 'ERR_JWS_INVALID'],
    ['signature empty', `${gh}.${gp}.`, 'ERR_JWS_INVALID'],
    ['oversized', `${gh}.${seg({ pad: 'x'.repeat(17_000) })}.${gs}`, 'ERR_JWS_INVALID'],
  ])('%s → %s', (_name, input, code) => {
    expect(codeOf(() => decodeJws(input))).toBe(code);
  });

  it('the untampered token passes, so the table tests the mutation', () => {
    expect(verifyJws(decodeJws(good), kp.publicKey)).toBe(true);
  });

  it('honours a smaller maxBytes', () => {
    expect(codeOf(() => decodeJws(good, { maxBytes: good.length - 1 }))).toBe('ERR_JWS_INVALID');
    expect(decodeJws(good, { maxBytes: good.length }).payload).toEqual({ sub: 'a' });
  });
});

describe('headerCache', () => {
  const kp = generateKeyPair();

  function recordingCache() {
    const map = new Map<string, Record<string, unknown>>();
    const log = { gets: 0, sets: 0 };
    return {
      log,
      cache: {
        get: (s: string) => (log.gets++, map.get(s)),
        set: (s: string, h: Record<string, unknown>) => (log.sets++, void map.set(s, h)),
      },
    };
  }

  it('reuses a checked header, frozen, across tokens that share it', () => {
    const { cache, log } = recordingCache();
    const a = decodeJws(signJws({ typ: 'x', jwk: { k: 1 } }, { n: 1 }, kp.privateKey), { headerCache: cache });
    const b = decodeJws(signJws({ typ: 'x', jwk: { k: 1 } }, { n: 2 }, kp.privateKey), { headerCache: cache });
    expect(log.sets).toBe(1);
    expect(b.header).toBe(a.header);
    expect(Object.isFrozen(a.header) && Object.isFrozen(a.header.jwk)).toBe(true);
    expect(b.payload).toEqual({ n: 2 });
  });

  it('never stores a header that fails the checks', () => {
    const { cache, log } = recordingCache();
    const [, p, s] = signJws({}, { n: 1 }, kp.privateKey).split('.');
    const cases: [Record<string, unknown>, string][] = [
      [{ alg: 'none' }, 'ERR_ALG_NOT_ALLOWED'],
      [{ alg: 'EdDSA', crit: ['x'] }, 'ERR_JWS_INVALID'],
    ];
    for (const [h, code] of cases) {
      const input = `${seg(h)}.${p}.${s}`;
      expect(codeOf(() => decodeJws(input, { headerCache: cache }))).toBe(code);
      expect(codeOf(() => decodeJws(input, { headerCache: cache }))).toBe(code);
    }
    expect(log.sets).toBe(0);
  });

  it('still checks the payload and signature of every token', () => {
    const { cache } = recordingCache();
    const good = signJws({}, { n: 1 }, kp.privateKey);
    decodeJws(good, { headerCache: cache });
    const [h, , s] = good.split('.');
    expect(codeOf(() => decodeJws(`${h}.${seg('{"n":1,"n":2}')}.${s}`, { headerCache: cache }))).toBe('ERR_JWS_INVALID');
    expect(codeOf(() => decodeJws(`${h}.${seg({ n: 1 })}.${s.slice(2)}`, { headerCache: cache }))).toBe('ERR_JWS_INVALID');
  });
});
