/**
 * Discovery bound to identity: an agent publishes ITSELF under a name within its own
 * orchestration and task, and Resolve answers with the address together with the SPIFFE
 * id and key the peer must prove. A name held by another live identity cannot be taken.
 */
import { create } from '@bufbuild/protobuf';
import { BatonError, assertId } from '@baton/core';
import { PublishResponseSchema, ResolveResponseSchema, type PublishRequest, type PublishResponse, type ResolveRequest, type ResolveResponse } from './proto.js';
import { LIVE_SQL } from './agents.js';
import type { IdentityContext } from './context.js';
import { liveAgent } from './heartbeats.js';

/** `host:port`, host a DNS name, IPv4 or bracketed IPv6; at most 255 characters. */
const ADDRESS_RE = /^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\]):(\d{1,5})$/;

function assertAddress(value: string): string {
  const m = ADDRESS_RE.exec(value);
  const port = m ? Number(m[1]) : 0;
  if (!m || value.length > 255 || port < 1 || port > 65535) throw new BatonError('ERR_INVALID_ARGUMENT', 'address must be host:port');
  return value;
}

/** Publish for the authenticated agent `subject`. */
export async function publish(ctx: IdentityContext, subject: string, jkt: string | undefined, req: PublishRequest): Promise<PublishResponse> {
  const name = assertId('name', req.name);
  const address = assertAddress(req.address);
  const agent = await liveAgent(ctx, subject, jkt);
  const now = ctx.clock.now();
  const key = [agent.orchestrationId, agent.taskId, name];

  const inserted = await ctx.db.run(
    'INSERT INTO identity_discovery (orchestration_id, task_id, name, spiffe_id, address, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
    [...key, agent.spiffeId, address, now],
  );
  if (inserted.changes !== 1) {
    // Take over only our own entry, or one whose holder is no longer live (e.g. the
    // instance this one superseded). One statement, so two claimants cannot both win.
    const updated = await ctx.db.run(
      `UPDATE identity_discovery SET spiffe_id = ?, address = ?, updated_at = ?
        WHERE orchestration_id = ? AND task_id = ? AND name = ?
          AND (spiffe_id = ? OR spiffe_id NOT IN (SELECT spiffe_id FROM identity_agents WHERE status IN ${LIVE_SQL}))`,
      [agent.spiffeId, address, now, ...key, agent.spiffeId],
    );
    if (updated.changes !== 1) throw new BatonError('ERR_NAME_TAKEN', `name ${name} is published by another live identity`);
  }
  return create(PublishResponseSchema, { name, spiffeId: agent.spiffeId });
}

/** Where to resolve: explicit orchestration+task, or the authenticated caller's own. */
export interface ResolveScope {
  readonly orchestrationId: string;
  readonly taskId: string;
}

/** Resolve a name within `scope`. Only live instances before their deadline are answered. */
export async function resolve(ctx: IdentityContext, scope: ResolveScope, req: ResolveRequest): Promise<ResolveResponse> {
  const name = assertId('name', req.name);
  const row = await ctx.db.get<{ address: string; spiffe_id: string; jkt: string; public_key: string }>(
    `SELECT d.address, d.spiffe_id, a.jkt, a.public_key
       FROM identity_discovery d JOIN identity_agents a ON a.spiffe_id = d.spiffe_id
      WHERE d.orchestration_id = ? AND d.task_id = ? AND d.name = ? AND a.status IN ${LIVE_SQL} AND a.task_deadline > ?`,
    [scope.orchestrationId, scope.taskId, name, ctx.clock.now()],
  );
  if (!row) throw new BatonError('ERR_NOT_FOUND', `no live agent published as ${name}`);
  return create(ResolveResponseSchema, {
    name,
    address: row.address,
    spiffeId: row.spiffe_id,
    keyThumbprint: row.jkt,
    publicKey: Buffer.from(row.public_key, 'base64url'),
  });
}

/** Validates an explicit resolve scope; both ids or neither. Returns undefined for neither. */
export function explicitResolveScope(req: ResolveRequest): ResolveScope | undefined {
  if (req.orchestrationId === '' && req.taskId === '') return undefined;
  if (req.orchestrationId === '' || req.taskId === '') throw new BatonError('ERR_INVALID_ARGUMENT', 'give both orchestration_id and task_id, or neither');
  return { orchestrationId: assertId('orchestration', req.orchestrationId), taskId: assertId('task', req.taskId) };
}
