/**
 * Agent instances as identity records them: one row per registration, keyed by SPIFFE
 * id. Status moves `active` ⇄ `flagged` (heartbeats), and to `superseded` (a new
 * registration for the same task and name), `revoked` (heartbeat policy) or `failed`
 * (registration did not complete; the instance never held a token).
 */
import type { SqlExecutor } from '@baton/store';

/** Lifecycle state of an agent instance. */
export type AgentStatus = 'active' | 'flagged' | 'superseded' | 'revoked' | 'failed';

/** Statuses of an instance that may still act (hold valid tokens, own names). */
export const LIVE_STATUSES: readonly AgentStatus[] = ['active', 'flagged'];

/** SQL fragment matching live instances (constant; safe to inline). */
export const LIVE_SQL = "('active', 'flagged')";

/** An agent instance. Times are Unix ms. */
export interface AgentRecord {
  readonly spiffeId: string;
  readonly instanceId: string;
  readonly workflowId: string;
  readonly orchestrationId: string;
  readonly taskId: string;
  readonly name: string;
  readonly principal: string;
  readonly jkt: string;
  /** Raw public key, base64url. */
  readonly publicKey: string;
  readonly status: AgentStatus;
  readonly taskDeadline: number;
  readonly heartbeatIntervalSeconds: number;
  readonly missesBeforeFlag: number;
  readonly revokeOnFlag: boolean;
  readonly registeredAt: number;
  readonly lastSeenAt: number;
  readonly taskState: number;
}

interface Row {
  spiffe_id: string;
  instance_id: string;
  workflow_id: string;
  orchestration_id: string;
  task_id: string;
  name: string;
  principal: string;
  jkt: string;
  public_key: string;
  status: AgentStatus;
  task_deadline: number;
  heartbeat_interval: number;
  misses_before_flag: number;
  revoke_on_flag: number;
  registered_at: number;
  last_seen_at: number;
  task_state: number;
}

const COLUMNS =
  'spiffe_id, instance_id, workflow_id, orchestration_id, task_id, name, principal, jkt, public_key, status, task_deadline, heartbeat_interval, misses_before_flag, revoke_on_flag, registered_at, last_seen_at, task_state';

function fromRow(r: Row): AgentRecord {
  return {
    spiffeId: r.spiffe_id,
    instanceId: r.instance_id,
    workflowId: r.workflow_id,
    orchestrationId: r.orchestration_id,
    taskId: r.task_id,
    name: r.name,
    principal: r.principal,
    jkt: r.jkt,
    publicKey: r.public_key,
    status: r.status,
    taskDeadline: Number(r.task_deadline),
    heartbeatIntervalSeconds: Number(r.heartbeat_interval),
    missesBeforeFlag: Number(r.misses_before_flag),
    revokeOnFlag: Number(r.revoke_on_flag) === 1,
    registeredAt: Number(r.registered_at),
    lastSeenAt: Number(r.last_seen_at),
    taskState: Number(r.task_state),
  };
}

/** The instance with this SPIFFE id, or undefined. */
export async function findAgent(db: SqlExecutor, spiffeId: string): Promise<AgentRecord | undefined> {
  const r = await db.get<Row>(`SELECT ${COLUMNS} FROM identity_agents WHERE spiffe_id = ?`, [spiffeId]);
  return r ? fromRow(r) : undefined;
}

/** Inserts a new, active instance. */
export async function insertAgent(db: SqlExecutor, a: AgentRecord): Promise<void> {
  await db.run(
    `INSERT INTO identity_agents (${COLUMNS}, flagged_at, superseded_by, revoke_pending) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, NULL, 0)`,
    [
      a.spiffeId,
      a.instanceId,
      a.workflowId,
      a.orchestrationId,
      a.taskId,
      a.name,
      a.principal,
      a.jkt,
      a.publicKey,
      a.status,
      a.taskDeadline,
      a.heartbeatIntervalSeconds,
      a.missesBeforeFlag,
      a.revokeOnFlag ? 1 : 0,
      a.registeredAt,
      a.lastSeenAt,
      a.taskState,
    ],
  );
}

/**
 * Marks every live instance of (orchestration, task, name) superseded by `by`, with its
 * revocation pending. Returns their SPIFFE ids. Run inside the registration transaction.
 */
export async function supersedeLive(tx: SqlExecutor, orchestrationId: string, taskId: string, name: string, by: string): Promise<string[]> {
  const old = await tx.all<{ spiffe_id: string }>(
    `SELECT spiffe_id FROM identity_agents WHERE orchestration_id = ? AND task_id = ? AND name = ? AND status IN ${LIVE_SQL}`,
    [orchestrationId, taskId, name],
  );
  if (old.length > 0) {
    await tx.run(
      `UPDATE identity_agents SET status = 'superseded', superseded_by = ?, revoke_pending = 1 WHERE orchestration_id = ? AND task_id = ? AND name = ? AND status IN ${LIVE_SQL}`,
      [by, orchestrationId, taskId, name],
    );
  }
  return old.map((r) => r.spiffe_id);
}

/** Sets the status of one instance (no precondition). */
export async function setAgentStatus(db: SqlExecutor, spiffeId: string, status: AgentStatus): Promise<void> {
  await db.run('UPDATE identity_agents SET status = ? WHERE spiffe_id = ?', [status, spiffeId]);
}

/** Records that the issuer accepted the revocation of this instance. */
export async function clearRevokePending(db: SqlExecutor, spiffeId: string): Promise<void> {
  await db.run('UPDATE identity_agents SET revoke_pending = 0 WHERE spiffe_id = ?', [spiffeId]);
}
