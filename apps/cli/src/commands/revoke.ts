/**
 * `baton revoke <level> <target>`: IssuerService.Revoke with the operator key. Every
 * guard subscribed to WatchRevocations applies the entry within moments.
 */
import { assertId, decodeJws, isBatonError, parseAgentSpiffeId } from '@baton/core';
import { RevocationLevel, RevocationReason } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { UsageError, failure } from '../cli-error.js';
import { str, type CommandSpec } from '../command-spec.js';
import { withConnection } from '../connection.js';
import { isoTime } from '../durations.js';

/** Revocation levels by their CLI name, with what the target is. */
export const REVOCATION_LEVELS = Object.freeze({
  token: { level: RevocationLevel.TOKEN, target: 'a token jti (or the token itself)' },
  agent: { level: RevocationLevel.AGENT, target: 'an agent SPIFFE id' },
  task: { level: RevocationLevel.TASK, target: '<orchestration>/<task>' },
  hop: { level: RevocationLevel.HOP, target: 'a delegation hop hash (from `token inspect`)' },
  workflow: { level: RevocationLevel.WORKFLOW, target: 'a workflow id' },
  key: { level: RevocationLevel.KEY, target: 'a signing key id (kid)' },
});

/** Reasons an operator may give. */
export const REVOCATION_REASONS = Object.freeze({
  manual: RevocationReason.MANUAL,
  anomaly: RevocationReason.ANOMALY,
  'key-compromise': RevocationReason.KEY_COMPROMISE,
});

const B64URL_ID = /^[A-Za-z0-9_-]{16,128}$/;
const MAX_NOTE = 1024;

function invalidTarget(level: string, target: string, detail?: string): never {
  const spec = REVOCATION_LEVELS[level as keyof typeof REVOCATION_LEVELS];
  throw failure('ERR_INVALID_ARGUMENT', `${JSON.stringify(target.length > 100 ? target.slice(0, 100) + '…' : target)} is not ${spec.target}${detail ? `: ${detail}` : ''}`, `a ${level} target is ${spec.target}`);
}

/** Checks (and for `token` given as a whole token, extracts) the target. */
export function revocationTarget(level: keyof typeof REVOCATION_LEVELS, target: string): string {
  try {
    switch (level) {
      case 'token': {
        if (target.split('.').length === 3) {
          const jti = decodeJws(target, { maxBytes: 16 * 1024 }).payload.jti;
          if (typeof jti !== 'string' || !B64URL_ID.test(jti)) invalidTarget(level, target, 'the token has no usable jti');
          return jti;
        }
        if (!B64URL_ID.test(target)) invalidTarget(level, target);
        return target;
      }
      case 'agent':
        parseAgentSpiffeId(target);
        return target;
      case 'task': {
        const slash = target.indexOf('/');
        if (slash < 0) invalidTarget(level, target);
        assertId('orchestration', target.slice(0, slash));
        assertId('task', target.slice(slash + 1));
        return target;
      }
      case 'workflow':
        return assertId('workflow', target);
      case 'hop':
        if (!/^[A-Za-z0-9_-]{43}$/.test(target)) invalidTarget(level, target);
        return target;
      case 'key':
        if (!/^[A-Za-z0-9_-]{1,128}$/.test(target)) invalidTarget(level, target);
        return target;
    }
  } catch (err) {
    if (isBatonError(err) && err.code !== 'ERR_INVALID_ARGUMENT') invalidTarget(level, target, err.detail);
    throw err;
  }
}

export const revokeCommand: CommandSpec = {
  path: ['revoke'],
  summary: 'Revoke a token, agent, task, delegation hop, workflow or signing key.',
  description: `Operator only. Levels and targets: ${Object.entries(REVOCATION_LEVELS)
    .map(([k, v]) => `${k} = ${v.target}`)
    .join('; ')}. Token, agent, task and workflow revocations cover tokens issued up to now; hop and key revocations cover every token that uses them.`,
  positionals: [
    { name: 'level', description: Object.keys(REVOCATION_LEVELS).join('|') },
    { name: 'target', description: 'what to revoke (see above)' },
  ],
  options: {
    reason: { type: 'string', value: `<${Object.keys(REVOCATION_REASONS).join('|')}>`, description: 'why (recorded in the revocation and the audit log)', default: 'manual' },
    note: { type: 'string', value: '<text>', description: 'free text for the audit log (stored only as a keyed hash)', default: 'none' },
  },
  client: true,
  examples: [
    'baton revoke agent spiffe://baton.local/agent/orch-1/inv-7/q3LbX0Zs8kTz1aWcVbN2yA --reason anomaly',
    'baton revoke task orch-1/inv-7',
    'baton revoke token "$TOKEN"',
  ],
  async run(input, ctx) {
    const [levelName, rawTarget] = input.positionals as [string, string];
    if (!Object.hasOwn(REVOCATION_LEVELS, levelName)) throw new UsageError(`unknown level ${JSON.stringify(levelName)}: use one of ${Object.keys(REVOCATION_LEVELS).join(', ')}`, 'revoke');
    const reasonName = str(input, 'reason') ?? 'manual';
    if (!Object.hasOwn(REVOCATION_REASONS, reasonName)) throw new UsageError(`unknown reason ${JSON.stringify(reasonName)}: use one of ${Object.keys(REVOCATION_REASONS).join(', ')}`, 'revoke');
    const level = levelName as keyof typeof REVOCATION_LEVELS;
    const target = revocationTarget(level, rawTarget.trim());
    const note = str(input, 'note') ?? '';
    if (note.length > MAX_NOTE) throw failure('ERR_INVALID_ARGUMENT', `--note is longer than ${MAX_NOTE} characters`);
    const res = await withConnection(input, ctx, (c) =>
      c.issuer().revoke({ level: REVOCATION_LEVELS[level].level, target, reason: REVOCATION_REASONS[reasonName as keyof typeof REVOCATION_REASONS], note }),
    );
    const sequence = Number(res.sequence);
    const expiresAt = Number(res.expiresAt);
    ctx.out.result({ revoked: { level, target, reason: reasonName, sequence, expiresAt } }, () =>
      [
        `revoked ${level} ${target} (reason ${reasonName})`,
        `  sequence  ${sequence} (guards apply it from the revocation feed)`,
        `  kept until ${isoTime(expiresAt)}, when every token it covers has expired`,
      ].join('\n'),
    );
  },
};
