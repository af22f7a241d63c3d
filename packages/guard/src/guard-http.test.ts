import http, { type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BatonError, createProof, generateKeyPair, type ErrorCode } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGuard } from './create-guard.js';
import type { Decision } from './decision.js';
import { guardHttp, httpDecisionOf, httpTargetOf, type GuardHttpOptions } from './guard-http.js';
import { staticKeys } from './key-source.js';
import { AUDIENCE, ISSUER, fixture, type Fixture } from './testing/fixtures.js';

let f: Fixture;
const servers: http.Server[] = [];
const decisions: Decision[] = [];

/** Starts a guarded server on port 0; the handler echoes who called. */
async function serve(over: Partial<GuardHttpOptions> = {}, bearer = false): Promise<number> {
  const guard = createGuard({
    audience: AUDIENCE,
    issuer: ISSUER,
    keys: staticKeys(new Map([[f.kid, f.issuerKey.publicKey]])),
    clock: f.clock,
    proof: bearer ? 'bearer-allowed' : 'required',
    onDecision: (d) => void decisions.push(d),
  });
  const auth = guardHttp(guard, {
    toRequest: (req) => {
      const id = /^\/invoices\/([A-Za-z0-9-]+)$/.exec(new URL(req.url!, 'http://x').pathname)?.[1];
      if (req.headers['x-bad-request']) throw new BatonError('ERR_INVALID_ARGUMENT', 'bad body');
      if (req.method === 'GET') return { action: 'read', resource: 'invoice', ...(id ? { id } : {}) };
      if (req.method === 'POST') return { action: 'approve', resource: 'invoice', attributes: { amount: Number(req.headers['x-amount'] ?? 0) } };
      return { action: req.method!.toLowerCase(), resource: 'invoice' };
    },
    ...over,
  });
  const server = http.createServer((req, res) =>
    auth(req, res, () => {
      const d = httpDecisionOf(req)!;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ subject: d.subject, bearer: d.bearer }));
    }),
  );
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as AddressInfo).port;
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

function send(port: number, opts: { method?: string; path: string; headers?: Record<string, string | string[]> }): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: opts.method ?? 'GET', path: opts.path, headers: opts.headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
    });
    req.on('error', reject);
    req.end();
  });
}

function dpop(token: string, htm: string, htu: string, keyPair = f.holder): Record<string, string> {
  return { authorization: `DPoP ${token}`, dpop: createProof({ keyPair, htm, htu, accessToken: token, nowMs: f.clock.now() }) };
}

let port: number;
let base: string;
beforeAll(async () => {
  f = fixture();
  f.clock.set(Date.now());
  port = await serve();
  base = `http://127.0.0.1:${port}`;
});
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

describe('guardHttp', () => {
  it('allows a DPoP request; htu is scheme+host+path without the query', async () => {
    const token = f.mint();
    const r = await send(port, { path: '/invoices/inv-1?expand=lines#frag', headers: dpop(token, 'GET', `${base}/invoices/inv-1`) });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ subject: expect.stringMatching(/^spiffe:\/\/baton\.local\/agent\//), bearer: false });
  });

  type Make = () => { method?: string; path: string; headers: Record<string, string | string[]> };
  it.each((
    [
    ['no Authorization', () => ({ path: '/invoices/inv-1', headers: {} }), 401, 'ERR_TOKEN_MISSING'],
    ['Basic credentials', () => ({ path: '/invoices/inv-1', headers: { authorization: 'Basic dXNlcjpwYXNz' } }), 401, 'ERR_TOKEN_MISSING'],
    ['DPoP with no token', () => ({ path: '/invoices/inv-1', headers: { authorization: 'DPoP' } }), 401, 'ERR_TOKEN_MISSING'],
    ['a malformed token', () => ({ path: '/invoices/inv-1', headers: { authorization: 'DPoP a.b' } }), 401, 'ERR_TOKEN_MALFORMED'],
    ['a DPoP token without proof', () => ({ path: '/invoices/inv-1', headers: { authorization: `DPoP ${f.mint()}` } }), 401, 'ERR_PROOF_MISSING'],
    ['a bound token under the Bearer scheme', () => ({ path: '/invoices/inv-1', headers: { ...dpop(f.mint(), 'GET', `${base}/invoices/inv-1`), authorization: `Bearer ${f.mint()}` } }), 401, 'ERR_PROOF_MISSING'],
    ['a proof for another path', () => ({ path: '/invoices/inv-1', headers: dpop(f.mint(), 'GET', `${base}/invoices/inv-2`) }), 401, 'ERR_PROOF_METHOD_MISMATCH'],
    ['a proof for another method', () => ({ path: '/invoices/inv-1', headers: dpop(f.mint(), 'POST', `${base}/invoices/inv-1`) }), 401, 'ERR_PROOF_METHOD_MISMATCH'],
    ['a proof for another host', () => ({ path: '/invoices/inv-1', headers: dpop(f.mint(), 'GET', 'http://evil.example/invoices/inv-1') }), 401, 'ERR_PROOF_METHOD_MISMATCH'],
    ['a proof by another key', () => ({ path: '/invoices/inv-1', headers: dpop(f.mint(), 'GET', `${base}/invoices/inv-1`, generateKeyPair()) }), 401, 'ERR_PROOF_KEY_MISMATCH'],
    [
      'two DPoP headers',
      () => {
        const t = f.mint();
        const a = dpop(t, 'GET', `${base}/invoices/inv-1`);
        return { path: '/invoices/inv-1', headers: { authorization: a.authorization!, dpop: [a.dpop!, dpop(t, 'GET', `${base}/invoices/inv-1`).dpop!] } };
      },
      401,
      'ERR_PROOF_INVALID',
    ],
    ['an expired token', () => ({ path: '/invoices/inv-1', headers: dpop(f.mint({ exp: sec() - 31, iat: sec() - 400, nbf: sec() - 400 }), 'GET', `${base}/invoices/inv-1`) }), 401, 'ERR_TOKEN_EXPIRED'],
    ['a scope denial', () => ({ method: 'DELETE', path: '/invoices/inv-1', headers: dpop(f.mint(), 'DELETE', `${base}/invoices/inv-1`) }), 403, 'ERR_SCOPE_DENIED'],
    [
      'an amount above the constraint',
      () => ({ method: 'POST', path: '/invoices/inv-1', headers: { ...dpop(f.mint(), 'POST', `${base}/invoices/inv-1`), 'x-amount': '6000' } }),
      403,
      'ERR_CONSTRAINT_VIOLATED',
    ],
    ['a malformed Host header', () => ({ path: '/invoices/inv-1', headers: { ...dpop(f.mint(), 'GET', `${base}/invoices/inv-1`), host: 'a b' } }), 400, 'ERR_INVALID_ARGUMENT'],
    ['an absolute-form target', () => ({ path: 'http://evil.example/invoices/inv-1', headers: dpop(f.mint(), 'GET', 'http://evil.example/invoices/inv-1') }), 400, 'ERR_INVALID_ARGUMENT'],
    ['toRequest rejecting the request', () => ({ path: '/invoices/inv-1', headers: { ...dpop(f.mint(), 'GET', `${base}/invoices/inv-1`), 'x-bad-request': '1' } }), 400, 'ERR_INVALID_ARGUMENT'],
    ] as [string, Make, number, ErrorCode][]
  ).map(([n, make, status, code]) => [n, status, code, make] as const))('denies %s: %i %s as a generic RFC 7807 problem', async (_n, status, code, make) => {
    const before = decisions.length;
    const r = await send(port, make());
    expect(r.status).toBe(status);
    expect(r.headers['content-type']).toBe('application/problem+json');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(Object.keys(r.body).sort()).toEqual(['code', 'status', 'title', 'type']);
    expect(r.body).toMatchObject({ code, status, type: `urn:baton:error:${code.slice(4).toLowerCase().replace(/_/g, '-')}` });
    if (status === 401) expect(r.headers['www-authenticate']).toMatch(/^DPoP error="invalid_(token|dpop_proof)", algs="EdDSA"$/);
    // Every guard decision reached the audit hook, with the precise reason kept there.
    const d = decisions.at(-1);
    if (decisions.length > before && d && !d.allow) expect(JSON.stringify(r.body)).not.toContain(d.reason);
  });

  it('denies a replayed proof', async () => {
    const h = dpop(f.mint(), 'GET', `${base}/invoices/inv-1`);
    expect((await send(port, { path: '/invoices/inv-1', headers: h })).status).toBe(200);
    const r = await send(port, { path: '/invoices/inv-1', headers: h });
    expect(r.status).toBe(401);
    expect(r.body.code).toBe('ERR_PROOF_REPLAYED');
  });

  it('with a configured origin, proofs must name that origin', async () => {
    const p = await serve({ origin: 'https://api.example.com' });
    const token = f.mint();
    expect((await send(p, { path: '/invoices/inv-1', headers: dpop(token, 'GET', `http://127.0.0.1:${p}/invoices/inv-1`) })).body.code).toBe('ERR_PROOF_METHOD_MISMATCH');
    expect((await send(p, { path: '/invoices/inv-1', headers: dpop(token, 'GET', 'https://api.example.com/invoices/inv-1') })).status).toBe(200);
  });

  it('bearer-allowed resources accept a Bearer token and flag it', async () => {
    const p = await serve({}, true);
    const r = await send(p, { path: '/invoices/inv-1', headers: { authorization: `Bearer ${f.mint()}` } });
    expect(r.status).toBe(200);
    expect(r.body.bearer).toBe(true);
  });

  it('rejects wiring mistakes with TypeError', () => {
    const guard = createGuard({ audience: AUDIENCE, issuer: ISSUER, keys: staticKeys(new Map()) });
    expect(() => guardHttp(guard, {} as GuardHttpOptions)).toThrow(TypeError);
    expect(() => guardHttp(guard, { toRequest: () => undefined, origin: 'https://api.example.com/path' })).toThrow(TypeError);
  });
});

describe('httpTargetOf', () => {
  const req = (url: string, host: string | undefined, encrypted = false): IncomingMessage =>
    ({ url, headers: host === undefined ? {} : { host }, socket: { encrypted } }) as unknown as IncomingMessage;
  it.each<[string, string | undefined, boolean, string]>([
    ['/a/b?q=1', 'api.example.com', false, 'http://api.example.com/a/b'],
    ['/a/b', 'API.Example.com:443', true, 'https://api.example.com/a/b'],
    ['/a/b', 'api.example.com:80', false, 'http://api.example.com/a/b'],
    ['/a/b', 'api.example.com:8443', true, 'https://api.example.com:8443/a/b'],
    ['//evil.example/x', 'api.example.com', false, 'http://api.example.com//evil.example/x'],
    ['/a/../b', '[::1]:8080', false, 'http://[::1]:8080/b'],
  ])('%s with Host %s (tls %s) → %s', (url, host, tls, htu) => {
    expect(httpTargetOf(req(url, host, tls))).toBe(htu);
  });
  it.each([
    ['http://evil.example/x', 'api.example.com'],
    ['*', 'api.example.com'],
    ['/a', undefined],
    ['/a', 'user@api.example.com'],
    ['/a', 'api.example.com/evil'],
  ])('rejects target %s with Host %s', (url, host) => {
    expect(() => httpTargetOf(req(url, host))).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

function sec(): number {
  return Math.floor(f.clock.now() / 1000);
}
