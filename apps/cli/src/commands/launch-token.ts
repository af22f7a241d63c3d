/**
 * `baton launch-token create`: an orchestrator mints a one-time launch token for an
 * agent it is about to spawn. The token is a short-lived secret for that agent: it goes
 * to stdout only (alone on its line, so `$(baton launch-token create …)` captures it),
 * never to stderr or any log.
 */
import { assertId, isBatonError } from '@baton/core';
import { scopeToProto } from '@baton/proto';
import { UsageError, failure, withHint } from '../cli-error.js';
import { list, str, type CommandSpec } from '../command-spec.js';
import { withConnection } from '../connection.js';
import { isoTime, parseDuration } from '../durations.js';
import { parseScopeArgs } from '../scope-input.js';
import { checkWorkflowId } from './workflow.js';

/** Launch tokens live at most 30 s (identity's hard cap). */
const MAX_LAUNCH_TTL = 30;
const PRINCIPAL_RE = /^[\x21-\x7e]{1,256}$/;

export const launchTokenCreateCommand: CommandSpec = {
  path: ['launch-token', 'create'],
  summary: 'Mint a one-time launch token for an agent (orchestrator key).',
  description:
    'Signed with the orchestrator\'s key (--key). The token goes to stdout only: hand it to the spawned agent (e.g. in BATON_LAUNCH_TOKEN) and nowhere else. It is single use and expires within 30 s.',
  positionals: [],
  options: {
    workflow: { type: 'string', required: true, value: '<workflow>', description: 'workflow the task runs in' },
    task: { type: 'string', required: true, value: '<task>', description: 'task id, [A-Za-z0-9][A-Za-z0-9._-]{0,127}' },
    principal: { type: 'string', required: true, value: '<principal>', description: 'on whose behalf, e.g. user:vp@acme.example' },
    scope: { type: 'string', multiple: true, value: '<scope>', description: 'scope ceiling of the task, within the workflow ceiling', default: 'the workflow ceiling' },
    ttl: { type: 'string', value: '<duration>', description: `launch-token lifetime (≤ ${MAX_LAUNCH_TTL}s)`, default: `${MAX_LAUNCH_TTL}s` },
    'task-ttl': { type: 'string', value: '<duration>', description: 'task lifetime from now', default: "the workflow's max task TTL" },
    audience: { type: 'string', multiple: true, value: '<aud>', description: "audience of the agent's tokens (a resource id)", default: "the workflow's audiences" },
  },
  client: true,
  examples: [
    'export BATON_LAUNCH_TOKEN=$(baton launch-token create --key orch-1.jwk --workflow expense-approval --task inv-7 --principal user:vp --audience payments)',
  ],
  async run(input, ctx) {
    if (str(input, 'key') === undefined) {
      throw new UsageError('missing --key <file>: launch tokens are signed by an orchestrator key (`baton orchestrator keygen` makes one)', 'launch-token create');
    }
    const workflowId = checkWorkflowId(str(input, 'workflow')!);
    let taskId: string;
    try {
      taskId = assertId('task', str(input, 'task'));
    } catch (err) {
      if (isBatonError(err)) throw withHint(err, 'task ids are `[A-Za-z0-9][A-Za-z0-9._-]{0,127}`');
      throw err;
    }
    const principal = str(input, 'principal')!;
    if (!PRINCIPAL_RE.test(principal)) throw failure('ERR_INVALID_ARGUMENT', '--principal must be 1..256 printable characters without spaces', 'e.g. --principal user:vp@acme.example');
    const scopes = parseScopeArgs(list(input, 'scope'));
    const ttl = str(input, 'ttl');
    const taskTtl = str(input, 'task-ttl');
    const request = {
      workflowId,
      taskId,
      principal,
      scopes: scopes.map((s) => scopeToProto(s)),
      ttlSeconds: ttl === undefined ? 0 : parseDuration(ttl, 'ttl', 1, MAX_LAUNCH_TTL),
      taskTtlSeconds: taskTtl === undefined ? 0 : parseDuration(taskTtl, 'task-ttl'),
      audiences: list(input, 'audience'),
    };
    const res = await withConnection(
      input,
      ctx,
      (c) =>
        c.identity().createLaunchToken(request).catch((err: unknown) => {
          // The one argument the authority can refuse that the CLI cannot check alone.
          if (isBatonError(err) && err.code === 'ERR_INVALID_ARGUMENT' && request.audiences.length === 0) {
            throw withHint(err, 'the workflow names no audiences, so give the resource the agent will call: --audience <aud>');
          }
          throw err;
        }),
      { keyWhat: 'orchestrator key file' },
    );
    const expiresAt = Number(res.expiresAt);
    const taskDeadline = Number(res.taskDeadline);
    ctx.out.note(`launch token for ${workflowId}/${taskId}: single use, expires ${isoTime(expiresAt)} (${res.grantedTtlSeconds}s); task deadline ${isoTime(taskDeadline)}`);
    ctx.out.result(
      { launchToken: res.launchToken, expiresAt, taskDeadline, grantedTtlSeconds: res.grantedTtlSeconds, workflow: workflowId, task: taskId },
      res.launchToken,
    );
  },
};
