import type { DescService } from '@bufbuild/protobuf';
import * as grpc from '@grpc/grpc-js';
import { Health } from './gen/grpc/health/v1/health_pb.js';
import { ServerReflection } from './gen/grpc/reflection/v1/reflection_pb.js';
import type { CallContext, ServiceImpl } from './handler-types.js';
import { HealthState, ServingStatus } from './health.js';
import { ReflectionIndex } from './reflection.js';
import { wrapService } from './server-handlers.js';
import type { HandlerEnv } from './server-handlers.js';
import { createServiceDefinition } from './service-definition.js';
import { unaryDeadlineInterceptor } from './unary-deadline.js';

/** Largest delay Node timers honour: longer ones fire at once, so grpc-js must not see them. */
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_STREAMS = 2 ** 32 - 1;
/** Time limits and their largest values (grpc-js adds up to 10 % jitter to the age). */
const TIME_LIMITS = {
  maxConnectionIdleMs: MAX_TIMER_MS,
  maxConnectionAgeMs: Math.floor(MAX_TIMER_MS / 1.1),
  maxConnectionAgeGraceMs: MAX_TIMER_MS,
  unaryDeadlineMs: MAX_TIMER_MS,
} as const;

/** Options of {@link createServer}; every field has a default in {@link DEFAULT_SERVER_OPTIONS}. */
export interface ServerOptions {
  /** Largest request message accepted; larger ones fail with RESOURCE_EXHAUSTED. */
  readonly maxReceiveMessageBytes?: number;
  /** Largest response message sent; larger ones fail the call with RESOURCE_EXHAUSTED. */
  readonly maxSendMessageBytes?: number;
  /** Largest request metadata accepted (HTTP/2 accounting); larger fails with RESOURCE_EXHAUSTED. */
  readonly maxMetadataBytes?: number;
  /** Interval of keepalive pings on idle connections. */
  readonly keepaliveTimeMs?: number;
  /** How long to wait for a keepalive ping answer before closing the connection. */
  readonly keepaliveTimeoutMs?: number;
  /**
   * Most calls one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS,
   * `grpc.max_concurrent_streams`). grpc-js and Node clients queue further calls on that
   * connection until one ends; a client that ignores the setting has them refused
   * (REFUSED_STREAM). Long-lived streams count: a process that holds many feeds open to
   * one server should spread them over several connections.
   */
  readonly maxConcurrentStreams?: number;
  /**
   * A connection with no open call for this long is closed with a GOAWAY
   * (`grpc.max_connection_idle_ms`); clients reconnect on their next call. A connection
   * carrying a stream (WatchRevocations, Tail) is busy, never idle. `Infinity`: never.
   */
  readonly maxConnectionIdleMs?: number;
  /**
   * After about this long (±10 % jitter) a connection takes no new calls (GOAWAY,
   * `grpc.max_connection_age_ms`): clients open a fresh one, which re-runs the TLS
   * handshake with current certificates and spreads load over replicas. `Infinity`: never.
   */
  readonly maxConnectionAgeMs?: number;
  /**
   * How long calls still open on an aged connection may continue before it is closed
   * (`grpc.max_connection_age_grace_ms`). `Infinity`: until they end, so long-lived
   * streams are never cut by the age limit.
   */
  readonly maxConnectionAgeGraceMs?: number;
  /**
   * Unary calls whose client set no deadline end with DEADLINE_EXCEEDED after this long,
   * also when their request message never arrives. Calls with a deadline and streaming
   * calls are not affected. `Infinity`: no bound.
   */
  readonly unaryDeadlineMs?: number;
  /** grpc-js server interceptors, run before Baton's handler wrapper. */
  readonly serverInterceptors?: readonly grpc.ServerInterceptor[];
  /** Called with any non-Baton error a handler threw (for logging); the caller only sees ERR_INTERNAL. */
  readonly onInternalError?: ((err: unknown, ctx: CallContext) => void) | undefined;
  /** Wrap every handler in a SERVER span continuing the caller's trace. */
  readonly tracing?: boolean;
  /** Extra grpc-js server options (channel arguments); Baton's own limits win. */
  readonly grpcOptions?: grpc.ServerOptions;
}

/** Defaults of {@link ServerOptions}. */
export const DEFAULT_SERVER_OPTIONS = Object.freeze({
  /** 4 MiB, the gRPC default. */
  maxReceiveMessageBytes: 4 * 1024 * 1024,
  /** 4 MiB, the gRPC default. */
  maxSendMessageBytes: 4 * 1024 * 1024,
  /** 16 KiB (`grpc.max_metadata_size` elsewhere); Baton keeps tokens far below 8 KB. */
  maxMetadataBytes: 16 * 1024,
  /** 60 s: notices dead peers on long-lived streams within about a minute. */
  keepaliveTimeMs: 60_000,
  /** 20 s. */
  keepaliveTimeoutMs: 20_000,
  /** 100 per connection (far above what one Baton client uses; a guard holds one feed). */
  maxConcurrentStreams: 100,
  /** 5 min: abandoned connections go; agents heartbeating and guards' feeds stay. */
  maxConnectionIdleMs: 300_000,
  /** 30 min. */
  maxConnectionAgeMs: 1_800_000,
  /** Infinity: open calls finish on an aged connection, however long they run. */
  maxConnectionAgeGraceMs: Infinity,
  /** 60 s (Baton clients always send a deadline, 10 s by default). */
  unaryDeadlineMs: 60_000,
  /** None. */
  serverInterceptors: Object.freeze([]) as readonly grpc.ServerInterceptor[],
  /** None: internal errors are answered as ERR_INTERNAL and recorded on the span only. */
  onInternalError: undefined,
  /** On. */
  tracing: true,
  /** None. */
  grpcOptions: Object.freeze({}) as grpc.ServerOptions,
} satisfies ServerOptions);

/** A gRPC server serving protobuf-es services, plus health and reflection. */
export interface BatonServer {
  /** Register a service implementation (also after `listen`). Each service once. */
  addService<S extends DescService>(service: S, impl: ServiceImpl<S>): void;
  /** Bind and start; resolves to the bound port. Default: `127.0.0.1:0`, insecure. */
  listen(address?: string, credentials?: grpc.ServerCredentials): Promise<number>;
  /** Mark a service (or "" for the whole server) SERVING or NOT_SERVING for health checks. */
  setServing(serviceName: string, serving: boolean): void;
  /** Stop: health goes NOT_SERVING, in-flight calls get `graceMs` to finish, then are cancelled. */
  shutdown(graceMs?: number): Promise<void>;
  /** The underlying grpc-js server. */
  readonly grpcServer: grpc.Server;
}

class Server implements BatonServer {
  readonly grpcServer: grpc.Server;
  private readonly services = new Map<string, DescService>();
  private readonly health = new HealthState();
  private readonly reflection = new ReflectionIndex(() => [...this.services.values()]);
  private readonly env: HandlerEnv;

  constructor(options: Required<ServerOptions>) {
    this.grpcServer = new grpc.Server({
      ...options.grpcOptions,
      'grpc.max_receive_message_length': options.maxReceiveMessageBytes,
      'grpc.max_send_message_length': options.maxSendMessageBytes,
      'grpc.keepalive_time_ms': options.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': options.keepaliveTimeoutMs,
      ...connectionLimits(options),
      interceptors: [...(Number.isFinite(options.unaryDeadlineMs) ? [unaryDeadlineInterceptor(options.unaryDeadlineMs)] : []), ...options.serverInterceptors],
    });
    this.env = { maxMetadataBytes: options.maxMetadataBytes, tracing: options.tracing, onInternalError: options.onInternalError };
    // Health checks and reflection are infrastructure: not traced, so they do not flood traces.
    const quiet: HandlerEnv = { ...this.env, tracing: false };
    this.register(Health, this.health.impl(), quiet);
    this.register(ServerReflection, this.reflection.impl(), quiet);
  }

  private register(service: DescService, impl: object, env: HandlerEnv): void {
    if (this.services.has(service.typeName)) throw new TypeError(`service ${service.typeName} is already registered`);
    this.grpcServer.addService(createServiceDefinition(service), wrapService(service, impl, env));
    this.services.set(service.typeName, service);
    this.reflection.invalidate();
  }

  addService<S extends DescService>(service: S, impl: ServiceImpl<S>): void {
    if (typeof impl !== 'object' || impl === null) throw new TypeError('addService: impl must be an object');
    this.register(service, impl, this.env);
    this.health.set(service.typeName, ServingStatus.SERVING);
  }

  listen(address = '127.0.0.1:0', credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure()): Promise<number> {
    return new Promise((resolve, reject) => {
      this.grpcServer.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port)));
    });
  }

  setServing(serviceName: string, serving: boolean): void {
    if (!this.health.has(serviceName)) throw new TypeError(`setServing: unknown service ${serviceName}`);
    this.health.set(serviceName, serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING);
  }

  shutdown(graceMs = 5_000): Promise<void> {
    this.health.close();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.grpcServer.forceShutdown();
        resolve();
      }, graceMs);
      timer.unref();
      this.grpcServer.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}

/**
 * Create a gRPC server for protobuf-es v2 services. Every server also serves
 * `grpc.health.v1.Health` and `grpc.reflection.v1.ServerReflection`. Handler failures
 * are mapped to gRPC statuses in one place (see `statusFromError`).
 *
 * @example
 * ```ts
 * const server = createServer({ onInternalError: (err, ctx) => log.error(ctx.method, err) });
 * server.addService(IdentityService, identityImpl);
 * const port = await server.listen('0.0.0.0:7443', tlsCredentials);
 * ```
 */
export function createServer(options: ServerOptions = {}): BatonServer {
  const merged = { ...DEFAULT_SERVER_OPTIONS, ...stripUndefined(options) } as Required<ServerOptions>;
  for (const key of ['maxReceiveMessageBytes', 'maxSendMessageBytes', 'maxMetadataBytes', 'keepaliveTimeMs', 'keepaliveTimeoutMs'] as const) {
    const v = merged[key];
    if (!Number.isInteger(v) || v <= 0) throw new TypeError(`createServer: ${key} must be a positive integer`);
  }
  if (!Number.isInteger(merged.maxConcurrentStreams) || merged.maxConcurrentStreams <= 0 || merged.maxConcurrentStreams > MAX_STREAMS) {
    throw new TypeError('createServer: maxConcurrentStreams must be a positive integer of at most 2^32-1');
  }
  for (const [key, max] of Object.entries(TIME_LIMITS) as [keyof typeof TIME_LIMITS, number][]) {
    const v = merged[key];
    if (v !== Infinity && (!Number.isInteger(v) || v <= 0 || v > max)) throw new TypeError(`createServer: ${key} must be a positive integer of at most ${max}, or Infinity`);
  }
  return new Server(merged);
}

/** The grpc-js channel arguments of the connection limits; `Infinity` leaves a limit unset (off). */
function connectionLimits(o: Required<ServerOptions>): grpc.ServerOptions {
  const finite = (key: string, v: number): grpc.ServerOptions => (Number.isFinite(v) ? { [key]: v } : {});
  return {
    'grpc.max_concurrent_streams': o.maxConcurrentStreams,
    ...finite('grpc.max_connection_idle_ms', o.maxConnectionIdleMs),
    ...finite('grpc.max_connection_age_ms', o.maxConnectionAgeMs),
    ...finite('grpc.max_connection_age_grace_ms', o.maxConnectionAgeGraceMs),
  };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
