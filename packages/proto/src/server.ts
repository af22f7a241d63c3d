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
      interceptors: [...options.serverInterceptors],
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
  return new Server(merged);
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}
