/**
 * Wraps a service implementation so that every method first runs the per-call peer
 * check: no method of the wrapped service runs for a client without a valid SVID.
 */
import type { DescService } from '@bufbuild/protobuf';
import type { CallContext, ServiceImpl } from '@baton/proto';
import type { PeerVerifier, VerifiedPeer } from './peer-verifier.js';

const peers = new WeakMap<CallContext, VerifiedPeer>();

type AnyHandler = (input: unknown, ctx: CallContext) => unknown;

/**
 * `impl` with the mTLS peer check in front of each of its methods. Unimplemented methods
 * stay unimplemented. Inside a handler, {@link peerOf} returns the verified peer.
 *
 * @example
 * const verifier = createPeerVerifier({ source });
 * server.addService(Payments, requireMtls(Payments, guardGrpcService(guard, impl, opts), verifier));
 */
export function requireMtls<S extends DescService>(service: S, impl: ServiceImpl<S>, verifier: PeerVerifier): ServiceImpl<S> {
  if (typeof verifier?.verify !== 'function') throw new TypeError('requireMtls: verifier required');
  const source = impl as unknown as Record<string, AnyHandler | undefined>;
  const out: Record<string, AnyHandler> = {};
  for (const method of service.methods) {
    const handler = source[method.localName];
    if (typeof handler !== 'function') continue;
    const h = handler.bind(impl);
    const streamingResponse = method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming';
    out[method.localName] = streamingResponse
      ? async function* (input: unknown, ctx: CallContext) {
          peers.set(ctx, await verifier.verify(ctx));
          yield* h(input, ctx) as AsyncIterable<unknown>;
        }
      : async (input: unknown, ctx: CallContext) => {
          peers.set(ctx, await verifier.verify(ctx));
          return h(input, ctx);
        };
  }
  return out as unknown as ServiceImpl<S>;
}

/** The verified mTLS client of a call served through {@link requireMtls}. */
export function peerOf(ctx: CallContext): VerifiedPeer | undefined {
  return peers.get(ctx);
}
