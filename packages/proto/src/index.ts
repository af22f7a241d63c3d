// @baton/proto: the grpc-js adapter for Baton's protobuf-es v2 services. The generated
// messages and service descriptors are published as subpaths, e.g.
// `@baton/proto/baton/identity/v1/identity_pb.js`.

// server
export { DEFAULT_SERVER_OPTIONS, createServer } from './server.js';
export type { BatonServer, ServerOptions } from './server.js';
export type {
  BidiStreamingHandler,
  CallContext,
  ClientStreamingHandler,
  HandlerFor,
  PeerCertificate,
  ServerStreamingHandler,
  ServiceImpl,
  UnaryHandler,
} from './handler-types.js';
export { createServiceDefinition } from './service-definition.js';
export { rawBytesOf } from './raw-bytes.js';

// client
export { DEFAULT_CLIENT_OPTIONS, createClient } from './client.js';
export type { ClientOptions, GrpcChannel } from './client.js';
export type {
  BidiStreamingMethod,
  CallOptions,
  Client,
  ClientMethodFor,
  ClientStreamingMethod,
  ServerStreamingMethod,
  UnaryMethod,
} from './client-types.js';

// errors and metadata
export { errorFromGrpc, statusFromError } from './error-mapping.js';
export { MetadataKey } from './metadata-keys.js';

// scope conversion
export { scopeFromProto, scopeToProto } from './scope-convert.js';
