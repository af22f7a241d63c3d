/**
 * The people and programs that govern the workflow: the operator (creates the workflow,
 * registers the orchestrator, revokes) and the orchestrator (mints one-time launch tokens
 * for the agents it spawns). Both sign every call with their own key (`baton-proof` over
 * the request bytes): no passwords, no shared secrets.
 */
import { randomId } from '@baton/core';
import type { KeyPair, Scope } from '@baton/core';
import { keyHolderClient } from '@baton/guard';
import { scopeToProto } from '@baton/proto';
import type { Client } from '@baton/proto';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';

/** The workflow the scenario runs in. */
export const WORKFLOW_ID = 'expense-approval';
/** The principal on whose behalf the whole task runs. */
export const PRINCIPAL = 'user:vp';
/** The orchestrator's id (the orchestration segment of every agent's SPIFFE id). */
export const ORCHESTRATOR_ID = 'orch-expenses';
/** The payments server's audience. */
export const PAYMENTS_AUDIENCE = 'payments';

/** What the VP authorizes for the workflow: approvals up to $10,000, and the reads they need. */
export const WORKFLOW_CEILING: readonly Scope[] = Object.freeze([
  { action: 'approve', resource: 'payments', constraints: { amount: { min: 0, max: 10_000 } } },
  { action: 'read', resource: 'vendors' },
  { action: 'read', resource: 'invoices' },
]);

/** Operator and orchestrator, each a key holder talking to the authority. */
export interface Governance {
  readonly operatorIdentity: Client<typeof IdentityService>;
  readonly operatorIssuer: Client<typeof IssuerService>;
  readonly orchestratorIdentity: Client<typeof IdentityService>;
  readonly orchestratorKey: KeyPair;
  close(): void;
}

/** Clients for the operator and the orchestrator, each signing with its own key (0600 files). */
export function createGovernance(authority: string, operatorKey: KeyPair, orchestratorKey: KeyPair): Governance {
  const operatorIdentity = keyHolderClient(IdentityService, authority, operatorKey);
  const operatorIssuer = keyHolderClient(IssuerService, authority, operatorKey);
  const orchestratorIdentity = keyHolderClient(IdentityService, authority, orchestratorKey);
  return {
    operatorIdentity,
    operatorIssuer,
    orchestratorIdentity,
    orchestratorKey,
    close() {
      operatorIdentity.close();
      operatorIssuer.close();
      orchestratorIdentity.close();
    },
  };
}

/** The operator creates the workflow with its policy. */
export async function createWorkflow(g: Governance): Promise<void> {
  await g.operatorIdentity.createWorkflow({
    id: WORKFLOW_ID,
    description: `${PRINCIPAL} authorizes expense approvals up to $10,000`,
    policy: {
      scopeCeiling: WORKFLOW_CEILING.map(scopeToProto),
      defaultTokenTtlSeconds: 300,
      maxTokenTtlSeconds: 300,
      maxTaskTtlSeconds: 900,
      maxDelegationDepth: 3,
      allowRedelegation: true,
      audiences: [PAYMENTS_AUDIENCE],
    },
  });
}

/** The operator registers the orchestrator's public key for the workflow. */
export async function addOrchestrator(g: Governance): Promise<string> {
  const res = await g.operatorIdentity.addOrchestrator({
    id: ORCHESTRATOR_ID,
    publicKey: g.orchestratorKey.rawPublicKey,
    workflowIds: [WORKFLOW_ID],
  });
  return res.keyThumbprint;
}

/** A fresh task id for one run of the workflow. */
export function newTaskId(): string {
  return `expense-${randomId(8).replace(/[^A-Za-z0-9]/g, 'x')}`;
}

/** The orchestrator mints a one-time launch token (30 s, single use) for one agent. */
export async function mintLaunchToken(g: Governance, taskId: string, scopes: readonly Scope[]): Promise<{ launchToken: string; expiresAt: bigint }> {
  const res = await g.orchestratorIdentity.createLaunchToken({
    workflowId: WORKFLOW_ID,
    taskId,
    principal: PRINCIPAL,
    scopes: scopes.map(scopeToProto),
    ttlSeconds: 30,
    audiences: [PAYMENTS_AUDIENCE],
  });
  return { launchToken: res.launchToken, expiresAt: res.expiresAt };
}
