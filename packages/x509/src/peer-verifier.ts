/**
 * The server's per-call check of an mTLS client: the certificate TLS verified (grpc-js
 * exposes only those) must also be a valid X.509-SVID of the local trust domain, issued
 * by the bundle, current, and — when a policy is given — an identity the server accepts.
 * The first call of each connection is audited as `handshake.completed`, refusals as
 * `handshake.failed` (once per connection and reason, so a retry loop cannot flood the log).
 */
import { BatonError, isBatonError, sha256B64url, systemClock, type AuditSink, type Clock, type SpiffeId } from '@baton/core';
import type { CallContext } from '@baton/proto';
import { emitHandshake } from './handshake-audit.js';
import type { SvidSource } from './svid-source.js';
import type { TrustBundle } from './trust-bundle.js';
import { verifySvid, type VerifiedSvid } from './verify-svid.js';

/** The verified client of one call. */
export interface VerifiedPeer {
  readonly spiffeId: SpiffeId;
  /** base64url SHA-256 of the client certificate (`x5t#S256`). */
  readonly thumbprint: string;
  /** ms since the epoch. */
  readonly notAfter: number;
}

/** Options of {@link createPeerVerifier}. */
export interface PeerVerifierOptions {
  /** The local identity: its bundle verifies clients, its SPIFFE id goes into audit records. */
  readonly source: SvidSource;
  /**
   * Which verified peers may call. Default: any workload of the local trust domain (the
   * bundle already limits it to that domain); tokens then decide what each may do.
   */
  readonly authorize?: (peer: SpiffeId) => boolean;
  /** Handshake events. Default: none. */
  readonly audit?: AuditSink;
  /** Time for certificate validity. Default: the system clock. */
  readonly clock?: Clock;
  /** Verified certificates and audited connections remembered (each an LRU). Default 10 000. */
  readonly cacheSize?: number;
}

/** Checks the client of a call. */
export interface PeerVerifier {
  /** The verified peer, or a BatonError: ERR_PEER_CERT_INVALID, ERR_TRUST_DOMAIN_MISMATCH, ERR_PERMISSION_DENIED. */
  verify(ctx: CallContext): Promise<VerifiedPeer>;
}

/** A small LRU set/map: insertion order tracks recency. */
class Lru<V> {
  readonly #map = new Map<string, V>();
  constructor(readonly max: number) {}
  get(k: string): V | undefined {
    const v = this.#map.get(k);
    if (v !== undefined) {
      this.#map.delete(k);
      this.#map.set(k, v);
    }
    return v;
  }
  set(k: string, v: V): void {
    this.#map.delete(k);
    if (this.#map.size >= this.max) this.#map.delete(this.#map.keys().next().value as string);
    this.#map.set(k, v);
  }
  clear(): void {
    this.#map.clear();
  }
}

/**
 * Creates the per-call verifier a server on an mTLS port runs before every handler.
 *
 * @example
 * const verifier = createPeerVerifier({ source, authorize: (p) => p.segments[0] === 'agent' });
 * server.addService(Payments, requireMtls(Payments, impl, verifier));
 */
export function createPeerVerifier(options: PeerVerifierOptions): PeerVerifier {
  if (!options?.source) throw new TypeError('createPeerVerifier: source required');
  const clock = options.clock ?? systemClock;
  const size = options.cacheSize ?? 10_000;
  if (!Number.isInteger(size) || size < 1) throw new TypeError('createPeerVerifier: cacheSize must be a positive integer');
  const verified = new Lru<VerifiedSvid>(size);
  const audited = new Lru<true>(size);
  let bundleSeen: TrustBundle | undefined;

  async function refuse(ctx: CallContext, error: BatonError, peer: string | undefined): Promise<never> {
    const key = `${ctx.peer}|${error.code}`;
    if (audited.get(key) === undefined) {
      audited.set(key, true);
      await emitHandshake(options.audit, { mode: 'server', local: options.source.svid?.spiffeId, peer, address: ctx.peer }, error);
    }
    throw error;
  }

  return {
    async verify(ctx) {
      const cert = ctx.peerCertificate;
      if (!cert) return refuse(ctx, new BatonError('ERR_PEER_CERT_INVALID', 'no client certificate verified by TLS (none sent, or not issued by the trust bundle)'), undefined);
      const bundle = options.source.bundle;
      if (bundle !== bundleSeen) {
        // A new bundle (CA rotation) re-decides every certificate.
        verified.clear();
        bundleSeen = bundle;
      }
      const thumbprint = sha256B64url(cert.der);
      const now = clock.now();
      let v = verified.get(thumbprint);
      if (v === undefined) {
        try {
          v = verifySvid(cert.der, { bundle, role: 'client', nowMs: now });
        } catch (err) {
          const e = isBatonError(err) ? err : new BatonError('ERR_PEER_CERT_INVALID', 'client certificate unreadable');
          return refuse(ctx, e, cert.uriSans.length === 1 ? cert.uriSans[0] : undefined);
        }
        verified.set(thumbprint, v);
      } else if (now > v.notAfter || now < v.notBefore) {
        return refuse(ctx, new BatonError('ERR_PEER_CERT_INVALID', now > v.notAfter ? 'client certificate expired' : 'client certificate not yet valid'), v.spiffeId.uri);
      }
      if (options.authorize && !options.authorize(v.spiffeId)) {
        return refuse(ctx, new BatonError('ERR_PERMISSION_DENIED', `peer ${v.spiffeId.uri} is not allowed to call this server`), v.spiffeId.uri);
      }
      const connection = `${ctx.peer}|${thumbprint}`;
      if (audited.get(connection) === undefined) {
        audited.set(connection, true);
        await emitHandshake(options.audit, { mode: 'server', local: options.source.svid?.spiffeId, peer: v.spiffeId.uri, address: ctx.peer });
      }
      return { spiffeId: v.spiffeId, thumbprint, notAfter: v.notAfter };
    },
  };
}
