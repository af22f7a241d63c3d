/**
 * The credentials an agent puts on a gRPC call: `authorization: DPoP <token>` and a fresh
 * `dpop` proof whose `htm` is `POST` and `htu` the full method path, bound to the token by
 * `ath`. One proof per call; a guard refuses a proof it has seen before.
 */

/** Metadata of one authenticated agent call. */
export interface CallMetadata {
  readonly authorization: string;
  readonly dpop: string;
}

/** `/package.Service/Method`, as gRPC names a method on the wire. */
const METHOD_PATH = /^\/[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*\/[A-Za-z_][A-Za-z0-9_]*$/;

/** Throws TypeError unless `method` is a full gRPC method path. */
export function assertMethodPath(method: unknown): string {
  if (typeof method !== 'string' || method.length > 512 || !METHOD_PATH.test(method)) {
    throw new TypeError('method must be a full gRPC method path, e.g. "/acme.payments.v1.Payments/Approve"');
  }
  return method;
}
