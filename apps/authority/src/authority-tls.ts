/**
 * The authority's X.509 side: the identity CA (when identity is hosted here) and, when
 * the config asks for it, TLS on the listener.
 *
 * - `tls.mode: "authority-ca"`: the authority serves an SVID for `spiffe://<td>/authority`
 *   issued by its own identity CA (key `<dataDir>/keys/tls/authority.jwk`, 0600), renewed
 *   at half-life in place. Clients verify it against the trust bundle, which is also
 *   written (public) to `<dataDir>/trust-bundle.pem` for bootstrapping. Client
 *   certificates are requested, not required: agents register before they have one, and
 *   an agent presenting its SVID can use certificate-bound tokens here too.
 * - `tls.mode: "files"`: a certificate chain and key from PEM files (e.g. from a public
 *   CA), server-only TLS.
 *
 * With TLS on, services co-hosted in this process reach each other over a private unix
 * socket in `<dataDir>/run` (directory 0700) instead of the public listener.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ServerCredentials } from '@grpc/grpc-js';
import { BatonError, parseSpiffeId, type Clock } from '@baton/core';
import { openFileIdentityCa, type IdentityCa } from '@baton/identity';
import { TrustBundle, createSvidSource, svidOf, svidServerCredentials, type MutableSvidSource } from '@baton/x509';
import type { AuthorityConfig } from './config.js';
import { loadOrCreateKeyFile } from './key-files.js';

/** TLS of the authority listener, as configured. */
export type AuthorityTlsConfig =
  | { readonly mode: 'off' }
  | { readonly mode: 'authority-ca'; readonly dnsNames: readonly string[]; readonly ipAddresses: readonly string[] }
  | { readonly mode: 'files'; readonly certFile: string; readonly keyFile: string };

/** Lifetime of the authority's own SVID; renewed at half of it. */
export const AUTHORITY_SVID_TTL_MS = 24 * 3_600_000;

const HOST = /^[A-Za-z0-9.-]{1,253}$/;
const IP = /^[0-9.]{7,15}$|^[0-9a-fA-F:]{2,45}$/;

function bad(detail: string): never {
  throw new BatonError('ERR_INVALID_ARGUMENT', `config: tls ${detail}`);
}

/** Validates the `tls` member of the config file. Absent: off. */
export function parseTlsConfig(raw: unknown, base: string): AuthorityTlsConfig {
  if (raw === undefined) return { mode: 'off' };
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) bad('must be an object');
  const t = raw as Record<string, unknown>;
  const list = (v: unknown, re: RegExp, what: string): string[] => {
    if (v === undefined) return [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || !re.test(x))) bad(`${what} must be a list of names`);
    return [...(v as string[])];
  };
  switch (t.mode) {
    case 'off':
      return { mode: 'off' };
    case 'authority-ca':
      return { mode: 'authority-ca', dnsNames: list(t.dnsNames, HOST, 'dnsNames'), ipAddresses: list(t.ipAddresses, IP, 'ipAddresses') };
    case 'files':
      if (typeof t.certFile !== 'string' || typeof t.keyFile !== 'string') bad('files mode needs certFile and keyFile');
      return { mode: 'files', certFile: path.resolve(base, t.certFile), keyFile: path.resolve(base, t.keyFile) };
    default:
      return bad('mode must be "off", "authority-ca" or "files"');
  }
}

/** What {@link openAuthorityTls} sets up. */
export interface AuthorityTls {
  /** The identity CA, when identity is hosted here. */
  readonly ca: IdentityCa | undefined;
  /** Credentials of the public listener; undefined: plaintext. */
  readonly credentials: ServerCredentials | undefined;
  /** Private listen address for co-hosted services when the public one speaks TLS. */
  readonly internalListen: string | undefined;
  close(): void;
}

function writeBundle(config: AuthorityConfig, ca: IdentityCa): void {
  const pem = TrustBundle.fromDer(config.trustDomain, ca.authorities()).toPem();
  const file = path.join(config.dataDir, 'trust-bundle.pem');
  fs.writeFileSync(`${file}.tmp`, pem, { mode: 0o644 });
  fs.renameSync(`${file}.tmp`, file);
}

/** Opens the CA and the listener's TLS per `config`. */
export async function openAuthorityTls(config: AuthorityConfig, clock: Clock): Promise<AuthorityTls> {
  const tls = config.tls ?? { mode: 'off' };
  const ca = config.services.includes('identity') ? await openFileIdentityCa(path.join(config.dataDir, 'keys', 'ca'), { trustDomain: config.trustDomain, clock }) : undefined;
  if (ca) writeBundle(config, ca);
  const runDir = path.join(config.dataDir, 'run');
  const internal = (): string => {
    fs.mkdirSync(runDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(runDir, 0o700);
    const sock = path.join(runDir, 'grpc.sock');
    fs.rmSync(sock, { force: true }); // a stale socket from a previous run
    return `unix:${sock}`;
  };

  if (tls.mode === 'off') return { ca, credentials: undefined, internalListen: undefined, close: () => undefined };

  if (tls.mode === 'files') {
    const credentials = ServerCredentials.createSsl(null, [{ cert_chain: fs.readFileSync(tls.certFile), private_key: fs.readFileSync(tls.keyFile) }], false);
    return { ca, credentials, internalListen: internal(), close: () => undefined };
  }

  if (!ca) throw new TypeError('config: tls mode "authority-ca" needs the identity service in this process');
  const id = parseSpiffeId(`spiffe://${config.trustDomain}/authority`).uri;
  const key = loadOrCreateKeyFile(path.join(config.dataDir, 'keys', 'tls', 'authority.jwk'));
  const issue = async (): Promise<ReturnType<typeof svidOf>> => {
    const s = await ca.issue(id, key.publicKey, clock.now() + AUTHORITY_SVID_TTL_MS, { dnsNames: tls.dnsNames, ipAddresses: tls.ipAddresses });
    return svidOf(s.certificate, key.privateKey);
  };
  const source: MutableSvidSource = createSvidSource({ svid: await issue(), bundle: TrustBundle.fromDer(config.trustDomain, ca.authorities()) });
  const credentials = svidServerCredentials({ source });
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    const s = source.svid!;
    timer = setTimeout(() => {
      void (async () => {
        try {
          await ca.prune();
          source.update({ svid: await issue(), bundle: TrustBundle.fromDer(config.trustDomain, ca.authorities()) });
          writeBundle(config, ca);
        } catch (err) {
          process.stderr.write(`[authority] TLS certificate renewal failed: ${(err as Error)?.message ?? String(err)}\n`);
        }
        schedule();
      })();
    }, Math.max(1000, (s.notAfter - s.notBefore) / 2 - (clock.now() - s.notBefore)));
    timer.unref();
  };
  schedule();
  return {
    ca,
    credentials,
    internalListen: internal(),
    close: () => {
      if (timer) clearTimeout(timer);
      credentials.detach();
    },
  };
}
