/**
 * grpc-js reports every failed connection as UNAVAILABLE. For a client on an mTLS
 * channel that hides why: a man in the middle, an expired server certificate and a
 * refused port all look alike. This wrapper turns ERR_UNAVAILABLE back into the precise
 * refusal the channel's handshake recorded (ERR_PEER_IDENTITY_MISMATCH, ...).
 */
import type { DescService } from '@bufbuild/protobuf';
import { isBatonError } from '@baton/core';
import type { Client } from '@baton/proto';
import type { SvidChannelCredentials } from './channel-credentials.js';

function mapError(err: unknown, creds: SvidChannelCredentials): unknown {
  if (isBatonError(err) && err.code === 'ERR_UNAVAILABLE' && creds.lastFailure) return creds.lastFailure.error;
  return err;
}

function mappedIterable(inner: AsyncIterable<unknown>, creds: SvidChannelCredentials): AsyncIterable<unknown> {
  return {
    [Symbol.asyncIterator]() {
      const it = inner[Symbol.asyncIterator]();
      return {
        next: () =>
          it.next().catch((err: unknown) => {
            throw mapError(err, creds);
          }),
        return: (v?: unknown) => (it.return ? it.return(v) : Promise.resolve({ done: true as const, value: v })),
      };
    },
  };
}

/**
 * `client` (made with `credentials`) whose failures carry the handshake's own code when
 * the channel could not connect because the peer was refused.
 *
 * @example
 * const creds = svidChannelCredentials({ source, expectedId });
 * const peer = withHandshakeErrors(Payments, createClient(Payments, address, { credentials: creds }), creds);
 */
export function withHandshakeErrors<S extends DescService>(service: S, client: Client<S>, credentials: SvidChannelCredentials): Client<S> {
  const inner = client as unknown as Record<string, (input: unknown, opts?: unknown) => unknown>;
  const out: Record<string, unknown> = { close: () => client.close(), grpcClient: client.grpcClient };
  for (const method of service.methods) {
    const call = inner[method.localName];
    if (typeof call !== 'function') continue;
    const streamingResponse = method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming';
    out[method.localName] = streamingResponse
      ? (input: unknown, opts?: unknown) => mappedIterable(call(input, opts) as AsyncIterable<unknown>, credentials)
      : (input: unknown, opts?: unknown) =>
          (call(input, opts) as Promise<unknown>).catch((err: unknown) => {
            throw mapError(err, credentials);
          });
  }
  return Object.freeze(out) as Client<S>;
}
