import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { IdentityService } from './gen/baton/identity/v1/identity_pb.js';
import { uriSansOf } from './call-context.js';
import { createClient } from './client.js';
import type { PeerCertificate, ServiceImpl } from './handler-types.js';
import { createServer } from './server.js';

describe('uriSansOf', () => {
  it.each<[string | undefined, string[]]>([
    [undefined, []],
    ['', []],
    ['DNS:example.com', []],
    ['URI:spiffe://td/agent/o/t/i', ['spiffe://td/agent/o/t/i']],
    ['DNS:a.example, URI:spiffe://td/x, IP Address:127.0.0.1, URI:https://b.example/p', ['spiffe://td/x', 'https://b.example/p']],
    ['URI:"spiffe://td/a,b", DNS:x', ['spiffe://td/a,b']],
    ['DNS:"URI:spiffe://td/smuggled"', []],
    ['URI:"broken', []],
  ])('%s', (input, expected) => {
    expect(uriSansOf(input)).toEqual(expected);
  });
});

let hasOpenssl = true;
try {
  execFileSync('openssl', ['version'], { stdio: 'ignore' });
} catch {
  hasOpenssl = false;
}

describe.skipIf(!hasOpenssl)('mTLS peer certificate', () => {
  const dir = mkdtempSync(join(tmpdir(), 'baton-mtls-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const f = (n: string): string => join(dir, n);
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });

  function issue(name: string, san: string): void {
    ssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f(`${name}.key`), '-out', f(`${name}.csr`), '-subj', `/CN=${name}`);
    writeFileSync(f(`${name}.ext`), `subjectAltName=${san}\n`);
    ssl('x509', '-req', '-in', f(`${name}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${name}.crt`), '-days', '1', '-extfile', f(`${name}.ext`));
  }

  it('exposes the verified client certificate DER and URI SANs to the handler', async () => {
    ssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '1', '-subj', '/CN=test-ca');
    issue('server', 'DNS:localhost,IP:127.0.0.1');
    issue('client', 'URI:spiffe://td/agent/o/t/instance0000000001,DNS:client.example');
    const read = (n: string): Buffer => readFileSync(f(n));

    let seen: PeerCertificate | undefined;
    const server = createServer({ tracing: false });
    server.addService(IdentityService, {
      async getChallenge(_req, ctx) {
        seen = ctx.peerCertificate;
        return {};
      },
    } as Partial<ServiceImpl<typeof IdentityService>> as ServiceImpl<typeof IdentityService>);
    const port = await server.listen(
      '127.0.0.1:0',
      grpc.ServerCredentials.createSsl(read('ca.crt'), [{ private_key: read('server.key'), cert_chain: read('server.crt') }], true),
    );
    const client = createClient(IdentityService, `localhost:${port}`, {
      credentials: grpc.credentials.createSsl(read('ca.crt'), read('client.key'), read('client.crt')),
    });
    try {
      await client.getChallenge({});
      expect(seen).toBeDefined();
      expect(seen!.uriSans).toEqual(['spiffe://td/agent/o/t/instance0000000001']);
      expect(Buffer.from(seen!.der).equals(new X509Certificate(read('client.crt')).raw)).toBe(true);
      expect(seen!.fingerprint256).toBe(new X509Certificate(read('client.crt')).fingerprint256);
    } finally {
      client.close();
      await server.shutdown(100);
    }
  });
});
