/**
 * Server-side TLS for grpc-js from an {@link SvidSource}: TLS 1.3 with the local SVID,
 * client certificates requested and chain-checked against the trust bundle, and the
 * certificate swapped in place when the source rotates (no rebind, no dropped clients).
 *
 * The handshake does not refuse a missing or bad client certificate: grpc-js then hides
 * it from handlers, and the per-call check (`requireMtls` / `createPeerVerifier`)
 * refuses the call with a precise code the client can read (ERR_PEER_CERT_INVALID,
 * ERR_TRUST_DOMAIN_MISMATCH, ...) instead of an opaque TLS alert. Every service on an
 * mTLS port must therefore be wrapped; health and reflection stay open by design.
 */
import type { SecureContextOptions } from 'node:tls';
import { ServerCredentials } from '@grpc/grpc-js';
import { derToPem } from './pem.js';
import type { KeyObject } from 'node:crypto';
import type { SvidSource } from './svid-source.js';
import type { TrustBundle } from './trust-bundle.js';

/** Options of {@link svidServerCredentials}. */
export interface SvidServerOptions {
  /** The local identity: its SVID is served, its bundle checks client certificates. */
  readonly source: SvidSource;
  /** Ask clients for a certificate. Default true (mTLS); false serves server-only TLS. */
  readonly requestClientCertificate?: boolean;
}

function contextOptions(source: SvidSource): SecureContextOptions {
  const svid = source.svid;
  if (!svid) throw new TypeError('svidServerCredentials: the source has no SVID to serve');
  return {
    minVersion: 'TLSv1.3',
    ca: source.bundle.toPem(),
    cert: derToPem(svid.certificate),
    key: svid.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
  };
}

/** grpc-js server credentials serving the current SVID of a source. */
export class SvidServerCredentials extends ServerCredentials {
  readonly #unsubscribe: () => void;

  constructor(options: SvidServerOptions) {
    const request = options.requestClientCertificate ?? true;
    super({ requestCert: request, rejectUnauthorized: false, minVersion: 'TLSv1.3', ALPNProtocols: ['h2'] }, contextOptions(options.source));
    this.#unsubscribe = options.source.onChange(() => {
      // A source without an SVID keeps the last one (it cannot un-issue a certificate).
      if (options.source.svid) this.updateSecureContextOptions(contextOptions(options.source));
    });
  }

  /** Stops following the source (the server keeps its current certificate). */
  detach(): void {
    this.#unsubscribe();
  }

  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}

/**
 * Server credentials for an mTLS port backed by `source`.
 *
 * @example
 * const port = await server.listen('0.0.0.0:8443', svidServerCredentials({ source }));
 */
export function svidServerCredentials(options: SvidServerOptions): SvidServerCredentials {
  if (!options?.source) throw new TypeError('svidServerCredentials: source required');
  return new SvidServerCredentials(options);
}

/** Options of {@link mtlsServerCredentials}. */
export interface MtlsServerOptions {
  /** Authorities client SVIDs must chain to (the Baton trust bundle). */
  readonly bundle: TrustBundle;
  /** The server's own certificate chain (PEM), e.g. from the operator's PKI. */
  readonly certChain: string | Buffer;
  /** Its private key (PEM or KeyObject). */
  readonly privateKey: string | Buffer | KeyObject;
}

/**
 * mTLS for a server whose own identity is not an SVID (a resource server with a
 * certificate from the operator's PKI): TLS 1.3, client certificates requested and
 * chain-checked against the Baton bundle, enforced per call by `requireMtls` exactly as
 * with {@link svidServerCredentials}.
 *
 * @example
 * const creds = mtlsServerCredentials({ bundle, certChain: fs.readFileSync('tls/chain.pem'), privateKey: fs.readFileSync('tls/key.pem') });
 * server.addService(Payments, requireMtls(Payments, guarded, createPeerVerifier({ source: createSvidSource({ bundle }) })));
 */
export function mtlsServerCredentials(options: MtlsServerOptions): ServerCredentials {
  if (!options?.bundle || !options.certChain || !options.privateKey) throw new TypeError('mtlsServerCredentials: bundle, certChain and privateKey required');
  const pk = options.privateKey;
  const key = typeof pk === 'string' || Buffer.isBuffer(pk) ? pk : (pk.export({ format: 'pem', type: 'pkcs8' }) as string);
  return new StaticServerCredentials(
    { requestCert: true, rejectUnauthorized: false, minVersion: 'TLSv1.3', ALPNProtocols: ['h2'] },
    { minVersion: 'TLSv1.3', ca: options.bundle.toPem(), cert: options.certChain, key },
  );
}

class StaticServerCredentials extends ServerCredentials {
  override _equals(other: ServerCredentials): boolean {
    return other === this;
  }
}
