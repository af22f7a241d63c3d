/**
 * gRPC metadata keys Baton uses. Keys are lowercase ASCII (gRPC lowercases them anyway).
 */
export const MetadataKey = Object.freeze({
  /** `DPoP <access token>` on agent calls. */
  authorization: 'authorization',
  /** The DPoP-shaped proof bound to the access token (`ath`). */
  dpop: 'dpop',
  /** A key-only proof (`rh` = hash of the request bytes) on operator and service calls. */
  proof: 'baton-proof',
  /** Trailer: the stable Baton error code of a failed call. */
  errorCode: 'baton-error-code',
  /** W3C trace context. */
  traceparent: 'traceparent',
  /** W3C trace context, vendor part. */
  tracestate: 'tracestate',
  /** Trailer: serialized `google.rpc.Status` with a `baton.type.v1.Problem` detail. */
  statusDetails: 'grpc-status-details-bin',
} as const);
