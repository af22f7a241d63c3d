#!/usr/bin/env node
/**
 * One agent instance as its own process. The orchestrator (the demo driver) spawns it with
 * a one-time launch token in `BATON_LAUNCH_TOKEN`; the SDK reads it once, deletes it from
 * the environment, generates the agent's key in memory and registers. From then on the
 * process does what the driver's commands (JSON lines on stdin) ask, choosing its own path
 * where the task leaves it open (seeded by `BATON_DEMO_SEED`).
 *
 * Environment (none of it secret once the launch token is consumed): `BATON_AUTHORITY`,
 * `BATON_DELEGATION` (default: the authority), `BATON_PAYMENTS`, `BATON_AGENT_NAME`, optional `BATON_REQUESTED_SCOPES` (JSON),
 * `BATON_DEMO_SEED`, `BATON_TRACE_FILE`, `TRACEPARENT`.
 */
import { createAgent } from '@baton/agent';
import type { Agent } from '@baton/agent';
import { isBatonError } from '@baton/core';
import type { Scope } from '@baton/core';
import { emit, serveCommands } from './line-protocol.js';
import { agentCommands } from './agent-commands.js';
import { contextOf, inSpan, setupProcessTracing } from './process-tracing.js';
import { describeScope } from './scope-text.js';

function required(name: string): string {
  const v = process.env[name];
  if (!v) throw new TypeError(`${name} must be set`);
  return v;
}

function requestedScopes(): (string | Scope)[] | undefined {
  const raw = process.env['BATON_REQUESTED_SCOPES'];
  return raw ? (JSON.parse(raw) as (string | Scope)[]) : undefined;
}

async function main(): Promise<void> {
  const name = required('BATON_AGENT_NAME');
  const tracing = setupProcessTracing(`agent:${name}`);
  const authority = required('BATON_AUTHORITY');
  const scopes = requestedScopes();
  let agent: Agent;
  try {
    const delegation = process.env['BATON_DELEGATION'];
    agent = await inSpan(`agent ${name}: register`, () => createAgent({ authority, name, ...(delegation ? { delegation } : {}), ...(scopes ? { requestedScopes: scopes } : {}) }), {
      parent: contextOf(process.env['TRACEPARENT']),
    });
  } catch (err) {
    emit({ event: 'failed', code: isBatonError(err) ? err.code : 'ERR_INTERNAL' });
    await tracing.shutdown();
    process.exit(1);
  }

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await agent.release('agent process stopping').catch(() => undefined);
    await tracing.shutdown();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());

  serveCommands(
    agentCommands({
      agent,
      name,
      paymentsTarget: required('BATON_PAYMENTS'),
      seed: process.env['BATON_DEMO_SEED'] ?? '0',
      exit: () => void stop(),
    }),
    () => void stop(),
  );
  emit({
    event: 'ready',
    pid: process.pid,
    spiffeId: agent.spiffeId,
    instanceId: agent.instanceId,
    thumbprint: agent.thumbprint,
    scopes: agent.scopes.map(describeScope),
    expiresAt: agent.expiresAt,
    // What is left of the launch token in this process's environment after the SDK ran.
    launchTokenInEnv: process.env['BATON_LAUNCH_TOKEN'] !== undefined,
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`[agent] ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
