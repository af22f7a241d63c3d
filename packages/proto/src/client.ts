import type { DescService } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { createTracingClientInterceptor } from '@baton/telemetry';
import { bidiStreamCall, clientStreamCall, prepare, serverStreamCall, unaryCall } from './client-calls.js';
import type { Deadlines } from './client-calls.js';
import type { CallOptions, Client } from './client-types.js';

/** Options of {@link createClient}; every field has a default in {@link DEFAULT_CLIENT_OPTIONS}. */
export interface ClientOptions {
  /** Channel credentials (ignored when a channel is passed). */
  readonly credentials?: grpc.ChannelCredentials;
  /** grpc-js client interceptors, run inside the tracing interceptor. */
  readonly interceptors?: readonly grpc.Interceptor[];
  /** Largest response message accepted. */
  readonly maxReceiveMessageBytes?: number;
  /** Largest request message sent. */
  readonly maxSendMessageBytes?: number;
  /** Deadline of unary and client-streaming calls that name none, in ms. */
  readonly defaultDeadlineMs?: number;
  /** Deadline of server-streaming and bidi calls that name none, in ms (`Infinity`: none). */
  readonly defaultStreamDeadlineMs?: number;
  /** Interval of keepalive pings while calls are active. */
  readonly keepaliveTimeMs?: number;
  /** Extra grpc-js channel options; Baton's message limits and keepalive win. */
  readonly channelOptions?: grpc.ChannelOptions;
  /** Wrap every call in a CLIENT span and propagate W3C trace context. */
  readonly tracing?: boolean;
}

/** Defaults of {@link ClientOptions}. */
export const DEFAULT_CLIENT_OPTIONS = Object.freeze({
  /** Insecure (plaintext): fine for loopback; use TLS credentials across hosts. */
  credentials: undefined,
  /** None. */
  interceptors: Object.freeze([]) as readonly grpc.Interceptor[],
  /** 4 MiB, the gRPC default. */
  maxReceiveMessageBytes: 4 * 1024 * 1024,
  /** 4 MiB, the gRPC default. */
  maxSendMessageBytes: 4 * 1024 * 1024,
  /** 10 s: no unary call hangs forever. */
  defaultDeadlineMs: 10_000,
  /** None: feeds such as WatchRevocations are meant to stay open. */
  defaultStreamDeadlineMs: Infinity,
  /** 60 s. */
  keepaliveTimeMs: 60_000,
  /** None. */
  channelOptions: Object.freeze({}) as grpc.ChannelOptions,
  /** On. */
  tracing: true,
});

function definedOnly(o: ClientOptions): ClientOptions {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as ClientOptions;
}

/** A grpc-js channel (the interface `Client#getChannel()` returns, which `grpc.Channel` implements). */
export type GrpcChannel = ReturnType<grpc.Client['getChannel']>;

const RESERVED = new Set(['close', 'grpcClient']);

/**
 * A typed client for a protobuf-es v2 service. Failed calls reject with a `BatonError`
 * carrying the server's stable code (see `errorFromGrpc`).
 *
 * @example
 * ```ts
 * const identity = createClient(IdentityService, '127.0.0.1:7443');
 * const { nonce } = await identity.getChallenge({});
 * for await (const ev of audit.tail({ filter: { task: 't1' } }, { signal })) console.log(ev.entry?.sequence);
 * identity.close();
 * ```
 */
export function createClient<S extends DescService>(service: S, target: string | GrpcChannel, options: ClientOptions = {}): Client<S> {
  const o = { ...DEFAULT_CLIENT_OPTIONS, ...definedOnly(options) } as Omit<Required<ClientOptions>, 'credentials'> & ClientOptions;
  const deadlines: Deadlines = { unaryMs: o.defaultDeadlineMs, streamMs: o.defaultStreamDeadlineMs };
  for (const [name, v] of Object.entries(deadlines)) {
    if (typeof v !== 'number' || Number.isNaN(v) || v <= 0) throw new TypeError(`createClient: deadline ${name} must be a positive number`);
  }
  const interceptors = [...(o.tracing ? [createTracingClientInterceptor()] : []), ...o.interceptors];
  const channelOptions: grpc.ClientOptions = {
    ...o.channelOptions,
    'grpc.max_receive_message_length': o.maxReceiveMessageBytes,
    'grpc.max_send_message_length': o.maxSendMessageBytes,
    'grpc.keepalive_time_ms': o.keepaliveTimeMs,
    interceptors,
  };
  const credentials = o.credentials ?? grpc.credentials.createInsecure();
  const shared = typeof target !== 'string';
  const grpcClient = shared
    ? new grpc.Client('unused', credentials, { ...channelOptions, channelOverride: target })
    : new grpc.Client(target, credentials, channelOptions);

  const client: Record<string, unknown> = {
    close: () => {
      if (!shared) grpcClient.close();
    },
    grpcClient,
  };
  for (const method of service.methods) {
    if (RESERVED.has(method.localName)) throw new TypeError(`createClient: method name ${method.localName} is reserved`);
    const p = prepare(method);
    switch (method.methodKind) {
      case 'unary':
        client[method.localName] = (req: unknown, opts?: CallOptions) => unaryCall(grpcClient, p, deadlines, req, opts);
        break;
      case 'server_streaming':
        client[method.localName] = (req: unknown, opts?: CallOptions) => serverStreamCall(grpcClient, p, deadlines, req, opts);
        break;
      case 'client_streaming':
        client[method.localName] = (reqs: AsyncIterable<unknown>, opts?: CallOptions) => clientStreamCall(grpcClient, p, deadlines, reqs, opts);
        break;
      case 'bidi_streaming':
        client[method.localName] = (reqs: AsyncIterable<unknown>, opts?: CallOptions) => bidiStreamCall(grpcClient, p, deadlines, reqs, opts);
        break;
    }
  }
  return Object.freeze(client) as Client<S>;
}
