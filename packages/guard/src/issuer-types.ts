/**
 * The IssuerService contract the guard consumes (GetKeys, Introspect, WatchRevocations),
 * imported from the generated code in one place.
 */
export { IssuerService, RevocationLevel, RevocationReason } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
export type { GetKeysResponse, RevocationEntry, WatchRevocationsResponse } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
