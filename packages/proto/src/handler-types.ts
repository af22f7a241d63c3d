import type { DescMessage, DescService, MessageInitShape, MessageShape } from '@bufbuild/protobuf';
import type { Metadata } from '@grpc/grpc-js';

/** The client certificate of an mTLS call. */
export interface PeerCertificate {
  /** DER encoding of the leaf certificate. */
  readonly der: Uint8Array;
  /** URI subject alternative names (SPIFFE ids live here). */
  readonly uriSans: readonly string[];
  /** SHA-256 fingerprint as grpc/Node report it (colon-separated hex). */
  readonly fingerprint256: string;
}

/** What a handler knows about the call it serves. */
export interface CallContext {
  /** Full method path, `/package.Service/Method`. */
  readonly method: string;
  /** `package.Service`. */
  readonly service: string;
  /** Request metadata (headers). */
  readonly metadata: Metadata;
  /** Remote address, `ip:port`. */
  readonly peer: string;
  /** Aborted when the client cancels or the deadline passes; the reason is a BatonError. */
  readonly signal: AbortSignal;
  /** The call's deadline, if the client set one. */
  readonly deadline?: Date;
  /** The verified client certificate on mTLS calls. */
  readonly peerCertificate?: PeerCertificate;
  /** Add a response trailer (sent with the status, on success and on failure). */
  setTrailer(key: string, value: string | Buffer): void;
}

/** Handler of a unary method. */
export type UnaryHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  ctx: CallContext,
) => Promise<MessageInitShape<O>>;

/** Handler of a server-streaming method; the call ends when the iterable does. */
export type ServerStreamingHandler<I extends DescMessage, O extends DescMessage> = (
  request: MessageShape<I>,
  ctx: CallContext,
) => AsyncIterable<MessageInitShape<O>>;

/** Handler of a client-streaming method. */
export type ClientStreamingHandler<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageShape<I>>,
  ctx: CallContext,
) => Promise<MessageInitShape<O>>;

/** Handler of a bidirectional-streaming method. */
export type BidiStreamingHandler<I extends DescMessage, O extends DescMessage> = (
  requests: AsyncIterable<MessageShape<I>>,
  ctx: CallContext,
) => AsyncIterable<MessageInitShape<O>>;

// Fallback for descriptors without generated type information.
type AnyHandler = (input: any, ctx: CallContext) => any;

/** The handler type for one method descriptor. */
export type HandlerFor<M> = M extends { methodKind: 'unary'; input: infer I extends DescMessage; output: infer O extends DescMessage }
  ? UnaryHandler<I, O>
  : M extends { methodKind: 'server_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
    ? ServerStreamingHandler<I, O>
    : M extends { methodKind: 'client_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
      ? ClientStreamingHandler<I, O>
      : M extends { methodKind: 'bidi_streaming'; input: infer I extends DescMessage; output: infer O extends DescMessage }
        ? BidiStreamingHandler<I, O>
        : AnyHandler;

/**
 * The implementation of a service: one handler per method, keyed by the method's local
 * name (`createWorkflow`). Methods missing at runtime answer UNIMPLEMENTED.
 */
export type ServiceImpl<S extends DescService> = {
  [K in keyof S['method']]: HandlerFor<S['method'][K]>;
};
