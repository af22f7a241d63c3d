/**
 * OpenTelemetry RPC semantic-convention names and the split of a gRPC path into service
 * and method, shared by the client interceptor and the server span helper.
 */

/** Span attribute names used on every RPC span. */
export const RpcAttr = Object.freeze({
  system: 'rpc.system',
  service: 'rpc.service',
  method: 'rpc.method',
  grpcStatusCode: 'rpc.grpc.status_code',
  /** Baton's stable error code when the call failed with one. */
  errorCode: 'baton.error.code',
} as const);

/** A gRPC method path split into its parts. */
export interface RpcName {
  /** Span name: `package.Service/Method`. */
  readonly spanName: string;
  /** `package.Service`. */
  readonly service: string;
  /** `Method`. */
  readonly method: string;
}

// Paths come from service definitions (a small, fixed set), so a bounded memo is enough.
const MAX_CACHED = 1024;
const cache = new Map<string, RpcName>();

/** Split `/package.Service/Method` into span name, service and method. Never throws. */
export function splitRpcPath(path: string): RpcName {
  const hit = cache.get(path);
  if (hit) return hit;
  const trimmed = path.startsWith('/') ? path.slice(1) : path;
  const slash = trimmed.lastIndexOf('/');
  const name: RpcName =
    slash > 0
      ? { spanName: trimmed, service: trimmed.slice(0, slash), method: trimmed.slice(slash + 1) }
      : { spanName: trimmed || 'unknown', service: '', method: trimmed || 'unknown' };
  if (cache.size < MAX_CACHED) cache.set(path, name);
  return name;
}

/** gRPC codes that mark a SERVER span as failed (OTel RPC conventions); the rest are the caller's fault. */
const SERVER_ERROR_CODES = new Set([2, 4, 12, 13, 14, 15]);

/** Whether a gRPC status code marks a span of the given side as an error. */
export function isErrorStatus(code: number, side: 'client' | 'server'): boolean {
  if (code === 0) return false;
  return side === 'client' ? true : SERVER_ERROR_CODES.has(code);
}
