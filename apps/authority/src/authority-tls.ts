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
 *   A process without identity serves an SVID from the same CA, read from the shared
 *   `keys/ca` (see shared-ca.ts).
 * - `tls.mode: "files"`: a certificate chain and key from PEM files (e.g. from a public
 *   CA), server-only TLS; `caFile` verifies peers in other processes (peer-channels.ts).
 *
 * With TLS on, services co-hosted in this process reach each other over a private unix
 * socket in `<dataDir>/run` (directory 0700) instead of the public listener.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ServerCredentials } from '@grpc/grpc-js';
import { BatonError, parseSpiffeId, type AuditSink, type Clock } from '@baton/core';
import { caRotationRecord, openFileIdentityCa, type IdentityCa } from '@baton/identity';
import { TrustBundle, createSvidSource, svidOf, svidServerCredentials, type MutableSvidSource, type Svid, type SvidSource } from '@baton/x509';
import { withSharedCa } from './shared-ca.js';
import type { AuthorityConfig } from './config.js';
import { loadOrCreateKeyFile } from './key-files.js';

/** TLS of the authority listener, as configured. */
export type AuthorityTlsConfig =
  | { readonly mode: 'off' }
  | { readonly mode: 'authority-ca'; readonly dnsNames: readonly string[]; readonly ipAddresses: readonly string[] }
  | {
      readonly mode: 'files';
      readonly certFile: string;
      readonly keyFile: string;
      /** PEM of the CA(s) that signed the other processes' certificates; needed to reach remote peers. */
      readonly caFile?: string;
    };

/** Lifetime of the authority's own SVID; renewed at half of it. */
export const AUTHORITY_SVID_TTL_MS = 24 * 3_600_000;

/** How often the CA bundle (and, when due, the SVID) is refreshed. */
export const TRUST_REFRESH_MS = 10 * 60_000;

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
      if (t.caFile !== undefined && (typeof t.caFile !== 'string' || t.caFile === '')) bad('caFile must be a file name');
      return {
        mode: 'files',
        certFile: path.resolve(base, t.certFile),
        keyFile: path.resolve(base, t.keyFile),
        ...(typeof t.caFile === 'string' ? { caFile: path.resolve(base, t.caFile) } : {}),
      };
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
  /**
   * `authority-ca` only: this process's SVID (`spiffe://<td>/authority`) and the CA bundle,
   * kept current by renewal. Clients to peers in other processes verify with it.
   */
  readonly svidSource: SvidSource | undefined;
  close(): void;
}

function writeBundle(config: AuthorityConfig, ca: IdentityCa): void {
  const pem = TrustBundle.fromDer(config.trustDomain, ca.authorities()).toPem();
  const file = path.join(config.dataDir, 'trust-bundle.pem');
  fs.writeFileSync(`${file}.tmp`, pem, { mode: 0o644 });
  fs.renameSync(`${file}.tmp`, file);
}

/**
 * Opens the CA and the listener's TLS per `config`. `audit` records a CA rotation made
 * while issuing the listener's own certificate (agents' SVIDs are audited by identity).
 */
export async function openAuthorityTls(config: AuthorityConfig, clock: Clock, audit?: AuditSink): Promise<AuthorityTls> {
  const tls = config.tls ?? { mode: 'off' };
  const ca = config.services.includes('identity') ? await openFileIdentityCa(path.join(config.dataDir, 'keys', 'ca'), { trustDomain: config.trustDomain, clock }) : undefined;
  if (ca) writeBundle(config, ca);
  const runDir = path.join(config.dataDir, 'run');
  const internal = (): string => {
    fs.mkdirSync(runDir, { recursive: true, mode: 0o700 });
    fs.chmodSync(runDir, 0o700);
    // Named after the hosted services: split processes sharing one data directory must
    // not remove each other's socket.
    const tag = createHash('sha256').update([...config.services].sort().join(',')).digest('hex').slice(0, 8);
    const sock = path.join(runDir, `grpc-${tag}.sock`);
    fs.rmSync(sock, { force: true }); // a stale socket from a previous run
    return `unix:${sock}`;
  };

  if (tls.mode === 'off') return { ca, credentials: undefined, internalListen: undefined, svidSource: undefined, close: () => undefined };

  if (tls.mode === 'files') {
    const credentials = ServerCredentials.createSsl(null, [{ cert_chain: fs.readFileSync(tls.certFile), private_key: fs.readFileSync(tls.keyFile) }], false);
    return { ca, credentials, internalListen: internal(), svidSource: undefined, close: () => undefined };
  }

  const id = parseSpiffeId(`spiffe://${config.trustDomain}/authority`).uri;
  const key = loadOrCreateKeyFile(path.join(config.dataDir, 'keys', 'tls', 'authority.jwk'));
  let live: MutableSvidSource | undefined;
  // The SVID is re-issued at half-life; the bundle is re-read more often so that after a
  // CA rotation every process trusts the new CA well before any certificate from it is
  // served (the owner re-issues its own at its next half-life too).
  const step = async (from: IdentityCa): Promise<{ svid?: Svid; bundle: TrustBundle }> => {
    const bundle = TrustBundle.fromDer(config.trustDomain, from.authorities());
    const s = live?.svid;
    if (s && clock.now() < s.notBefore + (s.notAfter - s.notBefore) / 2) return { bundle };
    const issued = await from.issue(id, key.publicKey, clock.now() + AUTHORITY_SVID_TTL_MS, { dnsNames: tls.dnsNames, ipAddresses: tls.ipAddresses });
    // Only the owner's CA rotates (a shared snapshot never does).
    if (issued.rotatedFrom && audit) await audit.emit(caRotationRecord(issued.kid, issued.rotatedFrom));
    return { svid: svidOf(issued.certificate, key.privateKey), bundle };
  };
  // The owner of the CA prunes it and republishes the bundle; any other process reads the
  // shared CA afresh each time, so it follows the owner's rotations.
  const refresh = ca
    ? async () => {
        await ca.prune();
        const next = await step(ca);
        writeBundle(config, ca);
        return next;
      }
    : () => withSharedCa(config, clock, step);
  const internalListen = internal();
  const first = await refresh();
  const source: MutableSvidSource = createSvidSource({ svid: first.svid!, bundle: first.bundle });
  live = source;
  const credentials = svidServerCredentials({ source });
  let timer: NodeJS.Timeout | undefined;
  const schedule = (): void => {
    const s = source.svid!;
    const untilHalfLife = (s.notAfter - s.notBefore) / 2 - (clock.now() - s.notBefore);
    timer = setTimeout(() => {
      void (async () => {
        try {
          source.update(await refresh());
        } catch (err) {
          process.stderr.write(`[authority] TLS certificate renewal failed: ${(err as Error)?.message ?? String(err)}\n`);
        }
        schedule();
      })();
    }, Math.min(TRUST_REFRESH_MS, Math.max(1000, untilHalfLife)));
    timer.unref();
  };
  schedule();
  return {
    ca,
    credentials,
    internalListen,
    svidSource: source,
    close: () => {
      if (timer) clearTimeout(timer);
      credentials.detach();
    },
  };
}
