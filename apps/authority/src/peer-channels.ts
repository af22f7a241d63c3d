/**
 * How a service in this process reaches the services it depends on.
 *
 * - Hosted here: the process's own address (with TLS on, the private unix socket).
 * - Hosted elsewhere (`config.peers`), TLS off: plaintext, as before.
 * - Hosted elsewhere, `tls.mode: "authority-ca"`: TLS 1.3 that accepts only a peer proving
 *   `spiffe://<td>/authority` with a certificate from the shared identity CA (the bundle
 *   of this process's own SVID source); this process presents its own SVID as the client
 *   certificate. Refusals keep their precise code (`ERR_PEER_CERT_INVALID`,
 *   `ERR_PEER_IDENTITY_MISMATCH`, ...) instead of a bare `ERR_UNAVAILABLE`.
 * - Hosted elsewhere, `tls.mode: "files"`: TLS 1.3 verified against `tls.caFile` and the
 *   peer's host name as written in `peers`.
 *
 * A refused peer is reported on stderr (once per change of reason), so an operator sees
 * why a split process cannot reach its peers.
 *
 * Authorization between services stays with the service-key proofs each call carries;
 * TLS adds who-is-on-the-wire and confidentiality. There is no plaintext fallback: with
 * TLS configured, a remote peer is reached over TLS or not at all.
 */
import fs from 'node:fs';
import { createSecureContext } from 'node:tls';
import type { DescService } from '@bufbuild/protobuf';
import { credentials as grpcCredentials, type ChannelCredentials } from '@grpc/grpc-js';
import { BatonError, type AuditSink } from '@baton/core';
import { createClient, type Client } from '@baton/proto';
import { SvidChannelCredentials, svidChannelCredentials, withHandshakeErrors } from '@baton/x509';
import type { AuthorityTls } from './authority-tls.js';
import type { AuthorityConfig, ServiceName } from './config.js';

/** Where one peer service is, and with what to reach it. */
export interface PeerChannel {
  readonly target: string;
  /** Undefined: plaintext (TLS off, or the private socket of this process). */
  readonly credentials: ChannelCredentials | undefined;
}

/** Channels to the services this process depends on. */
export interface PeerChannels {
  /** TypeError when `name` is neither hosted here nor listed in `peers`. */
  channel(name: ServiceName): PeerChannel;
  /** A client of `service` on `name`'s channel (handshake refusals keep their code). */
  client<S extends DescService>(service: S, name: ServiceName): Client<S>;
}

/** The SPIFFE id every authority process serves in `authority-ca` mode. */
export function authorityId(config: AuthorityConfig): string {
  return `spiffe://${config.trustDomain}/authority`;
}

/** Writes a peer's handshake refusals to stderr, skipping repeats of the same reason. */
function refusalLog(target: string): AuditSink {
  let last = '';
  return {
    async emit(record) {
      if (record.outcome !== 'deny') {
        last = '';
        return;
      }
      const line = `[authority] peer ${target} refused: ${record.reasonCode ?? ''} ${record.reasonDetail ?? ''}`;
      if (line !== last) process.stderr.write(`${line}\n`);
      last = line;
    },
  };
}

/**
 * Channels for a process listening on `self` (its internal address) with `tls`.
 * Credentials are made once per remote target, so a handshake refusal is reported on
 * the peer it happened with.
 */
export function openPeerChannels(config: AuthorityConfig, tls: AuthorityTls, self: string): PeerChannels {
  const mode = config.tls?.mode ?? 'off';
  const byTarget = new Map<string, ChannelCredentials>();

  const remoteCredentials = (target: string): ChannelCredentials | undefined => {
    if (mode === 'off') return undefined;
    const known = byTarget.get(target);
    if (known) return known;
    let made: ChannelCredentials;
    if (mode === 'authority-ca') {
      if (!tls.svidSource) throw new TypeError('peer channels: authority-ca TLS without an SVID source');
      made = svidChannelCredentials({ source: tls.svidSource, expectedId: authorityId(config), audit: refusalLog(target) });
    } else {
      const caFile = config.tls?.mode === 'files' ? config.tls.caFile : undefined;
      if (!caFile) throw new BatonError('ERR_INVALID_ARGUMENT', 'config: tls.caFile is required to reach services in other processes over TLS');
      // Stock hostname verification (grpc-js checks the target's host), TLS 1.3 only.
      made = grpcCredentials.createFromSecureContext(createSecureContext({ ca: fs.readFileSync(caFile), minVersion: 'TLSv1.3' }));
    }
    byTarget.set(target, made);
    return made;
  };

  const channel = (name: ServiceName): PeerChannel => {
    if (config.services.includes(name)) return { target: self, credentials: undefined };
    const peer = config.peers[name];
    if (!peer) throw new TypeError(`config: service ${name} is neither hosted here nor listed in peers`);
    return { target: peer, credentials: remoteCredentials(peer) };
  };

  return {
    channel,
    client(service, name) {
      const { target, credentials } = channel(name);
      const client = createClient(service, target, credentials ? { credentials } : {});
      return credentials instanceof SvidChannelCredentials ? withHandshakeErrors(service, client, credentials) : client;
    },
  };
}
