import type { DescMessage, DescService, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type * as grpc from '@grpc/grpc-js';

/** Per-call options. */
export interface CallOptions {
  /** Request metadata. */
  readonly metadata?: Readonly<Record<string, string>> | grpc.Metadata;
  /** Deadline from now, in ms. Default: the client's `defaultDeadlineMs` (streams: `defaultStreamDeadlineMs`). */
  readonly deadlineMs?: number;
  /** Cancels the call when aborted (the call then fails with ERR_CANCELLED). */
  readonly signal?: AbortSignal;
}

/** Unary method on a client. */
export type UnaryMethod<I extends DescMessage, O extends DescMessage> = (
  request: MessageInitShape<I>,
  options?: CallOptions,
) => Promise<MessageShape<O>>;

/** Server-streaming method on a client; breaking out of the loop cancels the call. */
export type ServerStreamingMethod<I extends DescMessage, O extends DescMessage> = (
  request: MessageInitShape<I>,
  options?: CallOptions,
) => AsyncIterable<MessageShape<O>>;

/** Client-streaming method on a client. */
export type ClientStreamingMethod<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageInitShape<I>> | Iterable<MessageInitShape<I>>,
  options?: CallOptions,
) => Promise<MessageShape<O>>;

/** Bidirectional-streaming method on a client; breaking out of the loop cancels the call. */
export type BidiStreamingMethod<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageInitShape<I>> | Iterable<MessageInitShape<I>>,
  options?: CallOptions,
) => AsyncIterable<MessageShape<O>>;

/** The client method type for one method descriptor. */
export type ClientMethodFor<M> = M extends { methodKind: 'unary'; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? UnaryMethod<I, O>
  : M extends { methodKind: 'server_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? ServerStreamingMethod<I, O>
    : M extends { methodKind: 'client_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
      ? ClientStreamingMethod<I, O>
      : M extends { methodKind: 'bidi_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
        ? BidiStreamingMethod<I, O>
        : (input: unknown, options?: CallOptions) => unknown;

/** A typed client: one method per RPC (by local name), plus `close()`. */
export type Client<S extends DescService> = {
  readonly [K in keyof S['method']]: ClientMethodFor<S['method'][K]>;
} & {
  /** Close the channel (unless it was passed in shared). */
  close(): void;
  /** The underlying grpc-js client. */
  readonly grpcClient: grpc.Client;
};
