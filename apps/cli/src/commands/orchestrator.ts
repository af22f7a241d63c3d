/**
 * `baton orchestrator keygen` (a new orchestrator key file, 0600) and
 * `baton orchestrator add` (registers its public key for workflows; operator key).
 */
import path from 'node:path';
import { writeKeyFile } from '@baton/authority';
import { assertId, generateKeyPair, importPublicJwk, isBatonError, jwkThumbprint, rawPublicKeyOf } from '@baton/core';
import { fileError, withHint } from '../cli-error.js';
import { list, str, type CommandSpec } from '../command-spec.js';
import { withConnection } from '../connection.js';
import { parsePublicKeyArg } from '../public-key-input.js';
import { checkWorkflowId } from './workflow.js';

export const orchestratorKeygenCommand: CommandSpec = {
  path: ['orchestrator', 'keygen'],
  summary: 'Create an orchestrator key file (mode 0600) and print its public key.',
  description: 'The private key stays in the file and is never printed. Register the public key with `baton orchestrator add`, then give the file to the orchestrator (it signs `launch-token create`).',
  positionals: [],
  options: {
    out: { type: 'string', value: '<file>', required: true, description: 'key file to create; never overwritten' },
  },
  examples: ['baton orchestrator keygen --out orch-1.jwk'],
  async run(input, { io, out }) {
    const file = path.resolve(io.cwd, str(input, 'out')!);
    const kp = generateKeyPair();
    try {
      writeKeyFile(file, kp);
    } catch (err) {
      throw fileError(err, file, 'key file', 'choose another --out, or delete the old file if it is no longer used');
    }
    out.result({ file, publicJwk: kp.publicJwk, thumbprint: kp.thumbprint }, () =>
      [
        `wrote orchestrator key ${path.relative(io.cwd, file) || file} (0600)`,
        `  public key  ${JSON.stringify(kp.publicJwk)}`,
        `  thumbprint  ${kp.thumbprint}`,
        '',
        `Next: baton orchestrator add <id> --public-key ${path.relative(io.cwd, file) || file} --workflow <workflow>`,
      ].join('\n'),
    );
  },
};

export const orchestratorAddCommand: CommandSpec = {
  path: ['orchestrator', 'add'],
  summary: "Register an orchestrator's public key for one or more workflows.",
  description: 'Operator only. The orchestrator id becomes the orchestration segment of its agents\' SPIFFE ids.',
  positionals: [{ name: 'id', description: 'orchestrator id, [a-z0-9][a-z0-9._-]{0,63}' }],
  options: {
    'public-key': { type: 'string', required: true, value: '<jwk-file|base64url>', description: 'the orchestrator key: JWK file (public or its 0600 key file), inline JWK, or raw base64url' },
    workflow: { type: 'string', multiple: true, required: true, value: '<workflow>', description: 'a workflow it may start tasks in' },
  },
  client: true,
  examples: ['baton orchestrator add orch-1 --public-key orch-1.jwk --workflow expense-approval'],
  async run(input, ctx) {
    let id: string;
    try {
      id = assertId('orchestration', input.positionals[0]);
    } catch (err) {
      if (isBatonError(err)) throw withHint(err, 'orchestrator ids are `[a-z0-9][a-z0-9._-]{0,63}`, e.g. orch-1');
      throw err;
    }
    const jwk = parsePublicKeyArg(str(input, 'public-key')!, ctx.io.cwd);
    const workflows = list(input, 'workflow').map(checkWorkflowId);
    const res = await withConnection(input, ctx, (c) => c.identity().addOrchestrator({ id, publicKey: rawPublicKeyOf(importPublicJwk(jwk)), workflowIds: workflows }));
    const thumbprint = res.keyThumbprint || jwkThumbprint(jwk);
    ctx.out.result({ orchestrator: { id: res.id, thumbprint, workflows, publicJwk: jwk } }, () =>
      [`added orchestrator ${res.id}`, `  key thumbprint  ${thumbprint}`, `  workflows       ${workflows.join(', ')}`].join('\n'),
    );
  },
};
