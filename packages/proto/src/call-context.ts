import { Metadata } from '@grpc/grpc-js';
import type { ServerUnaryCall } from '@grpc/grpc-js';
import { BatonError } from '@baton/core';
import type { CallContext, PeerCertificate } from './handler-types.js';

/** Split Node's `subjectaltname` text (`URI:a, DNS:b`, entries may be JSON-quoted) into URI SANs. */
export function uriSansOf(subjectAltName: string | undefined): string[] {
  if (!subjectAltName) return [];
  const out: string[] = [];
  // Entries are `type:value` separated by ", "; values with special characters are quoted.
  const re = /(?:^|, )([A-Za-z ]+):("(?:[^"\\]|\\.)*"|[^,]*)/g;
  for (let m = re.exec(subjectAltName); m; m = re.exec(subjectAltName)) {
    if (m[1] !== 'URI') continue;
    let value = m[2]!;
    if (value.startsWith('"')) {
      try {
        value = JSON.parse(value) as string;
      } catch {
        continue;
      }
    }
    out.push(value);
  }
  return out;
}

/** What every grpc-js server call offers (grpc-js does not export its own name for it). */
export type SurfaceCall = Pick<ServerUnaryCall<unknown, unknown>, 'metadata' | 'getPeer' | 'getDeadline' | 'getAuthContext'> & {
  once(event: 'cancelled', listener: () => void): unknown;
  removeListener(event: 'cancelled', listener: () => void): unknown;
};

/** The {@link CallContext} of one server call; the adapter disposes it when the call ends. */
export class ServerCallContext implements CallContext {
  readonly metadata: Metadata;
  readonly signal: AbortSignal;
  // Read eagerly: grpc-js forgets the socket once the call ends.
  readonly peer: string;
  private certificate: PeerCertificate | null | undefined;
  private readonly controller = new AbortController();
  private trailers: Metadata | undefined;
  private readonly onCancelled = (): void => {
    const deadline = this.call.getDeadline();
    const expired = deadline instanceof Date ? deadline.getTime() <= Date.now() : Number.isFinite(deadline) && deadline <= Date.now();
    this.controller.abort(
      expired ? new BatonError('ERR_DEADLINE_EXCEEDED', 'call deadline passed') : new BatonError('ERR_CANCELLED', 'client cancelled the call'),
    );
  };

  constructor(
    private readonly call: SurfaceCall,
    readonly method: string,
    readonly service: string,
  ) {
    this.metadata = call.metadata;
    this.peer = call.getPeer();
    this.signal = this.controller.signal;
    call.once('cancelled', this.onCancelled);
  }

  get deadline(): Date | undefined {
    const d = this.call.getDeadline();
    if (d instanceof Date) return d;
    return Number.isFinite(d) ? new Date(d) : undefined;
  }

  /** Parsed on first use (most calls never ask) and kept; only CA-verified certificates appear. */
  get peerCertificate(): PeerCertificate | undefined {
    if (this.certificate === undefined) {
      const cert = this.call.getAuthContext?.()?.sslPeerCertificate;
      this.certificate =
        cert?.raw && cert.raw.length > 0
          ? Object.freeze({ der: new Uint8Array(cert.raw), uriSans: Object.freeze(uriSansOf(cert.subjectaltname)), fingerprint256: cert.fingerprint256 })
          : null;
    }
    return this.certificate ?? undefined;
  }

  setTrailer(key: string, value: string | Buffer): void {
    if (!this.trailers) this.trailers = new Metadata();
    this.trailers.set(key, value);
  }

  /** Trailers set by the handler, if any. */
  trailerMetadata(): Metadata | undefined {
    return this.trailers;
  }

  /** Whether the call ended from the client's side (cancel or deadline). */
  get cancelled(): boolean {
    return this.controller.signal.aborted;
  }

  /** Stop listening: grpc-js also reports a normally finished call as "cancelled". */
  dispose(): void {
    this.call.removeListener('cancelled', this.onCancelled);
  }
}
