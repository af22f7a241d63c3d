/**
 * A typed client for key holders (operators, orchestrators, Baton services): every unary
 * or server-streaming call carries a fresh `baton-proof` signed over the exact request
 * bytes, so callers never assemble proofs by hand.
 */
import { create, toBinary, type DescService } from '@bufbuild/protobuf';
import { systemClock, type Clock, type KeyPair } from '@baton/core';
import { createClient, type CallOptions, type Client, type ClientOptions } from '@baton/proto';
import type { Metadata } from '@grpc/grpc-js';
import { keyProofMetadata } from './proof-metadata.js';

/** Options of {@link keyHolderClient}. */
export interface KeyHolderClientOptions extends ClientOptions {
  /** Time for proof `iat`. Default: the system clock. */
  readonly clock?: Clock;
}

function withMetadata(base: CallOptions['metadata'], extra: Record<string, string>): Record<string, string> | Metadata {
  if (!base) return extra;
  if (typeof (base as Metadata).set === 'function') {
    const m = (base as Metadata).clone();
    for (const [k, v] of Object.entries(extra)) m.set(k, v);
    return m;
  }
  return { ...(base as Record<string, string>), ...extra };
}

/**
 * `createClient(service, target)` whose unary and server-streaming calls are signed by
 * `keyPair`. Client- and bidi-streaming methods are not available through it.
 *
 * @example
 * const identity = keyHolderClient(IdentityService, '127.0.0.1:7700', operatorKey);
 * await identity.createWorkflow({ id: 'expense-approval', policy });
 */
export function keyHolderClient<S extends DescService>(service: S, target: string, keyPair: KeyPair, options: KeyHolderClientOptions = {}): Client<S> {
  const { clock = systemClock, ...clientOptions } = options;
  const inner = createClient(service, target, clientOptions) as unknown as Record<string, (input: unknown, opts?: CallOptions) => unknown>;
  const wrapped: Record<string, unknown> = { close: () => (inner as unknown as Client<S>).close(), grpcClient: (inner as unknown as Client<S>).grpcClient };
  for (const method of service.methods) {
    if (method.methodKind !== 'unary' && method.methodKind !== 'server_streaming') continue;
    const call = inner[method.localName]!;
    wrapped[method.localName] = (input: unknown, opts?: CallOptions) => {
      const message = create(method.input, input as never);
      const metadata = keyProofMetadata(keyPair, method, toBinary(method.input, message), clock.now());
      return call(message, { ...opts, metadata: withMetadata(opts?.metadata, metadata) });
    };
  }
  return Object.freeze(wrapped) as unknown as Client<S>;
}
