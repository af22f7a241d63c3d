/**
 * The generated messages and the adapter pieces identity uses, imported in one place.
 */
export {
  AddOrchestratorResponseSchema,
  CreateLaunchTokenResponseSchema,
  CreateWorkflowResponseSchema,
  GetChallengeResponseSchema,
  GetTrustBundleResponseSchema,
  GetWorkflowResponseSchema,
  HeartbeatPolicySchema,
  HeartbeatResponseSchema,
  IdentityService,
  ListWorkflowsResponseSchema,
  PublishResponseSchema,
  RegisterResponseSchema,
  ResolveResponseSchema,
  TaskState,
  WorkflowPolicySchema,
  WorkflowSchema,
} from '@baton/proto/baton/identity/v1/identity_pb.js';
export type {
  AddOrchestratorRequest,
  AddOrchestratorResponse,
  CreateLaunchTokenRequest,
  CreateLaunchTokenResponse,
  CreateWorkflowRequest,
  CreateWorkflowResponse,
  GetTrustBundleResponse,
  GetWorkflowRequest,
  GetWorkflowResponse,
  HeartbeatRequest,
  HeartbeatResponse,
  ListWorkflowsRequest,
  ListWorkflowsResponse,
  PublishRequest,
  PublishResponse,
  RegisterRequest,
  RegisterResponse,
  ResolveRequest,
  ResolveResponse,
  Workflow,
  WorkflowPolicy,
} from '@baton/proto/baton/identity/v1/identity_pb.js';
export {
  GetKeysRequestSchema,
  IssueRequestSchema,
  IssuerService,
  RevocationLevel,
  RevocationReason,
  RevokeRequestSchema,
} from '@baton/proto/baton/issuer/v1/issuer_pb.js';
export type { Scope as ProtoScope } from '@baton/proto/baton/type/v1/scope_pb.js';
export { MetadataKey, scopeFromProto, scopeToProto } from '@baton/proto';
export type { CallContext, Client, ServiceImpl } from '@baton/proto';
