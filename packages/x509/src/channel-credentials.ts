/**
 * Client-side mTLS for grpc-js, bound to a SPIFFE identity instead of a hostname. Each
 * new connection: TLS 1.3 presenting the local SVID, then the server's leaf is checked
 * with `verifySvid` against the trust bundle and the EXPECTED SPIFFE id (from discovery),
 * and OpenSSL's own chain verdict must agree. Hostnames play no part.
 *
 * grpc-js offers `checkServerIdentity`, but it only runs after OpenSSL accepted the
 * chain, so expired or foreign certificates would fail with an opaque transport error.
 * This connector runs every check itself and keeps the precise BatonError of the last
 * refusal (`lastFailure`), which `@baton/agent` reports instead of UNAVAILABLE.
 */
import { createSecureContext, connect as tlsConnect, type SecureContext } from 'node:tls';
import type { Socket } from 'node:net';
import { ChannelCredentials, credentials as grpcCredentials } from '@grpc/grpc-js';
import { BatonError, isBatonError, systemClock, type AuditSink, type Clock } from '@baton/core';
import { emitHandshake } from './handshake-audit.js';
import { derToPem } from './pem.js';
import type { Svid, SvidSource } from './svid-source.js';
import type { TrustBundle } from './trust-bundle.js';
import { verifySvid, type VerifiedSvid } from './verify-svid.js';

type Connector = ReturnType<ChannelCredentials['_createSecureConnector']>;
type CallCreds = Parameters<ChannelCredentials['_createSecureConnector']>[2];

/** Options of {@link svidChannelCredentials}. */
export interface SvidChannelOptions {
  /** The local identity: its SVID is presented (if any) and its bundle verifies the server. */
  readonly source: SvidSource;
  /** The SPIFFE id the server must prove, e.g. from `IdentityService.Resolve`. */
  readonly expectedId: string;
  /**
   * Present the SVID current at creation for the credentials' whole life, instead of the
   * source's current one at each connection. Certificate-bound tokens need this: a token
   * is bound to one certificate. Default false.
   */
  readonly pin?: boolean;
  /** Handshake events. Default: none. */
  readonly audit?: AuditSink;
  /** Time for certificate validity. Default: the system clock. */
  readonly clock?: Clock;
}

/** A refusal remembered for the caller, with when it happened. */
export interface HandshakeFailure {
  readonly error: BatonError;
  readonly atMs: number;
}

function contextOf(svid: Svid | undefined, bundle: TrustBundle): SecureContext {
  return createSecureContext({
    minVersion: 'TLSv1.3',
    ca: bundle.toPem(),
    ...(svid
      ? { cert: derToPem(svid.certificate), key: svid.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string }
      : {}),
  });
}

/** grpc-js channel credentials that authenticate the server by SPIFFE id. */
export class SvidChannelCredentials extends ChannelCredentials {
  readonly #o: SvidChannelOptions;
  readonly #pinned: Svid | undefined;
  #cache: { svid: Svid | undefined; bundle: TrustBundle; context: SecureContext } | undefined;
  #lastFailure: HandshakeFailure | undefined;
  #lastPeer: VerifiedSvid | undefined;

  constructor(options: SvidChannelOptions) {
    super();
    if (typeof options?.expectedId !== 'string' || options.expectedId === '') throw new TypeError('svidChannelCredentials: expectedId required');
    if (!options.source) throw new TypeError('svidChannelCredentials: source required');
    this.#o = options;
    this.#pinned = options.pin ? options.source.svid : undefined;
  }

  /** The SVID this channel presents (the pinned one, or the source's current one). Private: it holds the key. */
  #presented(): Svid | undefined {
    return this.#o.pin ? this.#pinned : this.#o.source.svid;
  }

  /** SPIFFE id this channel presents, if any. */
  get presentedId(): string | undefined {
    return this.#presented()?.spiffeId;
  }

  /** The last refused handshake, if any (cleared by a successful one). */
  get lastFailure(): HandshakeFailure | undefined {
    return this.#lastFailure;
  }

  /** The server identity of the last successful handshake. */
  get lastPeer(): VerifiedSvid | undefined {
    return this.#lastPeer;
  }

  override _isSecure(): boolean {
    return true;
  }

  // Identity only: a channel must never share connections with one expecting another peer.
  override _equals(other: ChannelCredentials): boolean {
    return other === this;
  }

  override _createSecureConnector(_target: unknown, _options: unknown, callCredentials?: CallCreds): Connector {
    const creds = callCredentials ?? grpcCredentials.createEmpty();
    return {
      connect: (socket: Socket) => this.#handshake(socket),
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => creds,
      destroy: () => undefined,
    };
  }

  #context(svid: Svid | undefined, bundle: TrustBundle): SecureContext {
    const c = this.#cache;
    if (c && c.svid === svid && c.bundle === bundle) return c.context;
    const context = contextOf(svid, bundle);
    this.#cache = { svid, bundle, context };
    return context;
  }

  #handshake(socket: Socket): Promise<{ socket: Socket; secure: boolean }> {
    const clock = this.#o.clock ?? systemClock;
    const svid = this.#presented();
    const bundle = this.#o.source.bundle;
    const facts = { mode: 'client' as const, local: svid?.spiffeId };
    return new Promise((resolve, reject) => {
      let settled = false;
      const tls = tlsConnect({
        socket,
        secureContext: this.#context(svid, bundle),
        ALPNProtocols: ['h2'],
        // Every check happens below, with Baton's codes; OpenSSL's verdict is still required.
        rejectUnauthorized: false,
        checkServerIdentity: () => undefined,
      });
      const refuse = (error: BatonError, peer: string | undefined): void => {
        settled = true;
        tls.destroy();
        this.#lastFailure = { error, atMs: clock.now() };
        void emitHandshake(this.#o.audit, { ...facts, peer }, error).then(() => reject(error));
      };
      tls.once('secureConnect', () => {
        const leaf = tls.getPeerCertificate();
        if (!leaf?.raw || leaf.raw.length === 0) return refuse(new BatonError('ERR_PEER_CERT_INVALID', 'server presented no certificate'), undefined);
        let verified: VerifiedSvid;
        try {
          verified = verifySvid(leaf.raw, { bundle, role: 'server', expectedId: this.#o.expectedId, nowMs: clock.now() });
        } catch (err) {
          const e = isBatonError(err) ? err : new BatonError('ERR_PEER_CERT_INVALID', 'server certificate unreadable');
          return refuse(e, presentedId(leaf.subjectaltname));
        }
        if (!tls.authorized) {
          return refuse(new BatonError('ERR_PEER_CERT_INVALID', `TLS chain verification failed: ${String(tls.authorizationError)}`), verified.spiffeId.uri);
        }
        settled = true;
        this.#lastFailure = undefined;
        this.#lastPeer = verified;
        void emitHandshake(this.#o.audit, { ...facts, peer: verified.spiffeId.uri }).then(() => resolve({ socket: tls, secure: true }));
      });
      // Errors after the handshake belong to the HTTP/2 session that owns the socket now.
      tls.on('error', (err: Error) => {
        if (settled) return;
        refuse(new BatonError('ERR_UNAVAILABLE', `TLS handshake failed: ${err.message}`), undefined);
      });
    });
  }
}

/** The single URI SAN in Node's `subjectaltname` text, for audit only (unverified). */
function presentedId(subjectAltName: string | undefined): string | undefined {
  const m = /(?:^|, )URI:([^,\s"]+)/.exec(subjectAltName ?? '');
  return m?.[1];
}

/**
 * Channel credentials that present the local SVID and accept only a server proving
 * `expectedId` with an SVID from the local trust bundle.
 *
 * @example
 * const creds = svidChannelCredentials({ source, expectedId: resolved.spiffeId });
 * const client = createClient(Payments, resolved.address, { credentials: creds });
 */
export function svidChannelCredentials(options: SvidChannelOptions): SvidChannelCredentials {
  return new SvidChannelCredentials(options);
}
