/**
 * A typed @baton/proto client whose every call carries the agent's credentials: the
 * current access token and a proof made for that call (htu = the method path). Proofs are
 * made when the call starts, so a client kept for an hour keeps working across renewals.
 */
import type { DescService } from '@bufbuild/protobuf';
import { Metadata } from '@grpc/grpc-js';
import type { ChannelCredentials } from '@grpc/grpc-js';
import { createClient } from '@baton/proto';
import type { CallOptions, Client } from '@baton/proto';

/** Credentials for one call to `methodPath`; undefined sends the call without any. */
export type MetadataFor = (methodPath: string) => Readonly<Record<string, string>> | undefined;

/** Options of {@link createAgentClient}. */
export interface AgentClientOptions {
  readonly credentials: ChannelCredentials;
  /** Deadline of unary calls that name none, in ms. */
  readonly defaultDeadlineMs?: number;
}

function mergeMetadata(base: CallOptions['metadata'], extra: Readonly<Record<string, string>>): Metadata | Record<string, string> {
  if (base instanceof Metadata) {
    const md = base.clone();
    for (const [k, v] of Object.entries(extra)) md.set(k, v);
    return md;
  }
  // Ours last: a caller cannot slip a different token or proof onto an agent call.
  return { ...(base ?? {}), ...extra };
}

function failingIterable(error: unknown): AsyncIterable<never> {
  return {
    [Symbol.asyncIterator]: () => ({ next: () => Promise.reject(error) }),
  };
}

/**
 * Wraps `createClient(service, target)` so each call first asks `metadataFor` for its
 * credentials. When that throws (token released or expired) the call fails with that
 * error without touching the network.
 */
export function createAgentClient<S extends DescService>(
  service: S,
  target: string,
  metadataFor: MetadataFor,
  options: AgentClientOptions,
): Client<S> {
  const inner = createClient(service, target, {
    credentials: options.credentials,
    ...(options.defaultDeadlineMs !== undefined ? { defaultDeadlineMs: options.defaultDeadlineMs } : {}),
  }) as unknown as Record<string, (input: unknown, opts?: CallOptions) => unknown> & Client<S>;
  const wrapped: Record<string, unknown> = {
    close: () => inner.close(),
    grpcClient: inner.grpcClient,
  };
  for (const method of service.methods) {
    const path = `/${service.typeName}/${method.name}`;
    const call = inner[method.localName]!;
    const streamingResponse = method.methodKind === 'server_streaming' || method.methodKind === 'bidi_streaming';
    wrapped[method.localName] = (input: unknown, opts?: CallOptions) => {
      let extra;
      try {
        extra = metadataFor(path);
      } catch (err) {
        return streamingResponse ? failingIterable(err) : Promise.reject(err);
      }
      return call(input, extra ? { ...opts, metadata: mergeMetadata(opts?.metadata, extra) } : opts);
    };
  }
  return Object.freeze(wrapped) as Client<S>;
}
