#!/usr/bin/env node
/**
 * DelegationService as its own process, for authorities that do not host it: composed
 * exactly as the authority composes its services (the delegation service key from the
 * authority's key directory, which the issuer and identity already trust; its own SQLite
 * file; identity and issuer reached over gRPC only; a guard with the chain verifier so
 * delegatees can re-delegate).
 *
 * Environment: `BATON_AUTHORITY_CONFIG` (the authority's config file), `BATON_AUTHORITY`
 * (its address), `BATON_TRACE_FILE`; with `BATON_AUDIT` and `BATON_AUDIT_SPOOL` it audits
 * `delegation.granted` / `delegation.denied` under the delegation service key. Prints `{"event":"ready","address":...}`.
 */
import path from 'node:path';
import { loadConfig, serviceKey } from '@baton/authority';
import { chainVerifier, createDelegation, resolveFromIssuer } from '@baton/delegation';
import { createGuard, createRevocationFeed, jwksFromIssuer } from '@baton/guard';
import { createClient, createServer } from '@baton/proto';
import { DelegationService } from '@baton/proto/baton/delegation/v1/delegation_pb.js';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { openDatabase } from '@baton/store';
import { openAuditSink } from './audit-sink.js';
import { emit, serveCommands } from './line-protocol.js';
import { setupProcessTracing } from './process-tracing.js';

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new TypeError(`${name} must be set`);
  return v;
}

async function main(): Promise<void> {
  const tracing = setupProcessTracing('baton-delegation');
  const config = loadConfig(required('BATON_AUTHORITY_CONFIG'), {});
  const authority = required('BATON_AUTHORITY');
  const issuerClient = createClient(IssuerService, authority);
  const identityClient = createClient(IdentityService, authority);
  const keys = jwksFromIssuer(issuerClient);
  const revocation = createRevocationFeed({ client: issuerClient });
  await Promise.all([keys.ready(), revocation.ready(10_000)]);
  const key = serviceKey(config, 'delegation');
  const audit = await openAuditSink('delegation', key);
  const db = await openDatabase(`sqlite:${path.join(config.dataDir, 'delegation.db')}`);
  const delegation = await createDelegation({
    db,
    issuer: config.issuer,
    issuerClient,
    identityClient,
    serviceKey: key,
    guard: createGuard({ audience: config.issuer, issuer: config.issuer, keys, revocation, chain: chainVerifier({ resolve: resolveFromIssuer(issuerClient) }) }),
    ...(audit ? { audit } : {}),
  });
  const server = createServer({ onInternalError: (err, ctx) => process.stderr.write(`[delegation] internal error in ${ctx.method}: ${String(err)}\n`) });
  server.addService(DelegationService, delegation.service);
  const port = await server.listen('127.0.0.1:0');
  const stop = (): void => {
    void (async () => {
      await server.shutdown(1000);
      await audit?.drain(2000);
      await audit?.close();
      await delegation.close();
      await revocation.close();
      issuerClient.close();
      identityClient.close();
      await db.close();
      await tracing.shutdown();
      process.exit(0);
    })();
  };
  process.on('SIGTERM', stop);
  serveCommands({ 'drain-audit': async () => ({ drained: audit ? await audit.drain(10_000) : false }) }, stop);
  emit({ event: 'ready', address: `127.0.0.1:${port}`, pid: process.pid });
}

main().catch((err: unknown) => {
  process.stderr.write(`[delegation] failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
