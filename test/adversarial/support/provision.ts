/**
 * What an operator and an orchestrator do before an agent can exist, against any
 * authority address: one workflow (the ceiling below), one orchestrator in it, launch
 * tokens, and a signed registration.
 */
import { create, toBinary, type DescMessage, type DescMethod, type MessageInitShape } from '@bufbuild/protobuf';
import { parseScope, registrationMessage, signBytes, type KeyPair } from '@baton/core';
import { keyProofMetadata } from '@baton/guard';
import { scopeToProto, type Client } from '@baton/proto';
import {
  AddOrchestratorRequestSchema,
  CreateLaunchTokenRequestSchema,
  CreateWorkflowRequestSchema,
  IdentityService,
  type RegisterRequestSchema,
} from '@baton/proto/baton/identity/v1/identity_pb.js';

export const WORKFLOW = 'adv-wf';
export const ORCHESTRATION = 'adv-orch';
export const AUDIENCE = 'payments';
export const PRINCIPAL = 'user:vp@acme.example';
/** The workflow ceiling: approve invoices up to 5000 (never negative), read invoices and vendors. */
export const CEILING = [
  parseScope({ action: 'approve', resource: 'invoice', id: '*', constraints: { amount: { max: 5000, min: 0 } } }),
  parseScope('read:invoice:*'),
  parseScope('read:vendor'),
];

/** `baton-proof` metadata over the exact bytes of `request`. */
export function keyProof<M extends DescMessage>(key: KeyPair, method: DescMethod, schema: M, request: MessageInitShape<M>): Record<string, string> {
  return keyProofMetadata(key, method, toBinary(schema, create(schema, request)));
}

/** Creates the workflow (as `operator`) and adds `orchestrator` to it. */
export async function provision(identity: Client<typeof IdentityService>, operator: KeyPair, orchestrator: KeyPair): Promise<void> {
  const wf = { id: WORKFLOW, policy: { scopeCeiling: CEILING.map(scopeToProto), audiences: [AUDIENCE], maxDelegationDepth: 5, allowRedelegation: true } };
  await identity.createWorkflow(wf, { metadata: keyProof(operator, IdentityService.method.createWorkflow, CreateWorkflowRequestSchema, wf) });
  const orch = { id: ORCHESTRATION, publicKey: orchestrator.rawPublicKey, workflowIds: [WORKFLOW] };
  await identity.addOrchestrator(orch, { metadata: keyProof(operator, IdentityService.method.addOrchestrator, AddOrchestratorRequestSchema, orch) });
}

let tasks = 0;

/** A launch token minted by `orchestrator` (a fresh task unless `over` names one). */
export async function mintLaunchToken(
  identity: Client<typeof IdentityService>,
  orchestrator: KeyPair,
  over: Partial<MessageInitShape<typeof CreateLaunchTokenRequestSchema>> = {},
): Promise<string> {
  const req = { workflowId: WORKFLOW, taskId: `task-${++tasks}`, principal: PRINCIPAL, audiences: [AUDIENCE], ...over } as MessageInitShape<typeof CreateLaunchTokenRequestSchema>;
  const res = await identity.createLaunchToken(req, { metadata: keyProof(orchestrator, IdentityService.method.createLaunchToken, CreateLaunchTokenRequestSchema, req) });
  return res.launchToken;
}

/** A correctly signed RegisterRequest for `key` over a fresh challenge, with overrides. */
export async function registerRequest(
  identity: Client<typeof IdentityService>,
  launchToken: string,
  key: KeyPair,
  over: Partial<MessageInitShape<typeof RegisterRequestSchema>> = {},
): Promise<MessageInitShape<typeof RegisterRequestSchema>> {
  const { nonce } = await identity.getChallenge({});
  const signature = signBytes(registrationMessage(nonce, launchToken, key.rawPublicKey), key.privateKey);
  return { launchToken, publicKey: key.rawPublicKey, nonce, signature, ...over } as MessageInitShape<typeof RegisterRequestSchema>;
}
