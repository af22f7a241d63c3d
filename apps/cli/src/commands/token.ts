/**
 * `baton token inspect <token | ->`: decode a token, show its times relative to now, run
 * the structural checks, and when an authority is known verify the signature against its
 * keys and ask it (Introspect); a delegated token's chain is drawn as a tree.
 * Exit 0 only when the token is valid.
 */
import { CONNECTION_DEFAULTS, authorityTarget, baseDir, findConfig, publicIssuerClient } from '../connection.js';
import { EXIT, failure } from '../cli-error.js';
import { flag, type CommandSpec } from '../command-spec.js';
import { formatChainTree } from '../chain-view.js';
import { readAll } from '../io.js';
import { describeScope } from '../scope-input.js';
import { MAX_TOKEN_INPUT_BYTES, inspectToken, type TokenReport } from '../token-report.js';

const MARK = { pass: '✓', fail: '✗', skip: '-' } as const;

function show(v: unknown): string {
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

/** Human rendering of an inspection. */
export function formatTokenReport(r: TokenReport, nowMs: number): string {
  const verdict =
    r.verdict === 'valid' ? '✓ valid' : r.verdict === 'invalid' ? `✗ invalid (${r.code})` : '? unverified: nothing failed, but the signature was not checked';
  const lines = [`${r.kind === 'launch-token' ? 'launch token' : 'token'} (${r.bytes} bytes): ${verdict}`];
  if (r.header) {
    lines.push('', 'header');
    for (const [k, v] of Object.entries(r.header)) lines.push(`  ${k.padEnd(14)} ${show(v)}`);
  }
  if (r.claims) {
    lines.push('', `claims${r.verdict === 'valid' ? '' : ' (unverified)'}`);
    const c = r.claims;
    const t = r.times ?? {};
    const row = (label: string, v: unknown): void => {
      if (v !== undefined) lines.push(`  ${label.padEnd(14)} ${show(v)}`);
    };
    row('issuer', c.iss);
    row('subject', c.sub);
    row('audience', Array.isArray(c.aud) ? c.aud.join(', ') : c.aud);
    row('principal', c.principal);
    row('workflow', c.wf);
    row('orchestration', c.orch_id);
    row('task', c.task_id);
    row('instance', c.iid);
    if (r.scopes) r.scopes.forEach((s, i) => lines.push(`  ${(i === 0 ? 'scopes' : '').padEnd(14)} ${describeScope(s)}`));
    else row('scope', c.scope);
    for (const [k, label] of [['iat', 'issued'], ['nbf', 'not before'], ['exp', 'expires'], ['tdl', 'task deadline']] as const) {
      const tv = t[k];
      if (tv) lines.push(`  ${label.padEnd(14)} ${tv.iso} (${tv.relative})`);
    }
    row('renewals', c.rnw);
    row('jti', c.jti);
    const cnf = c.cnf as Record<string, unknown> | undefined;
    if (cnf?.jkt !== undefined) row('bound to key', cnf.jkt);
    if (cnf?.['x5t#S256'] !== undefined) row('bound to cert', cnf['x5t#S256']);
    const known = new Set(['iss', 'sub', 'aud', 'principal', 'wf', 'orch_id', 'task_id', 'iid', 'scope', 'scopes', 'iat', 'nbf', 'exp', 'tdl', 'rnw', 'jti', 'cnf', 'del', 'act']);
    for (const [k, v] of Object.entries(c)) if (!known.has(k)) row(k, v);
  }
  lines.push('', 'checks');
  for (const ch of r.checks) lines.push(`  ${MARK[ch.status]} ${ch.name.padEnd(14)} ${ch.detail}${ch.code ? ` [${ch.code}]` : ''}`);
  if (r.chain) lines.push('', 'delegation chain', ...formatChainTree(r.chain, nowMs).split('\n').map((l) => `  ${l}`));
  return lines.join('\n');
}

export const tokenInspectCommand: CommandSpec = {
  path: ['token', 'inspect'],
  summary: 'Decode and check an access token; verify it against the authority when one is known.',
  description:
    'Reads the token from the argument, or from stdin with `-`. Offline it decodes and runs the structural, type, claim and time checks; with an authority (--authority, BATON_AUTHORITY, or authority.json in --dir) it also verifies the signature against GetKeys and shows Introspect\'s answer. Exit status 0 only when the token is valid. Prefer `-` for live tokens: an argument stays in shell history and the process list.',
  positionals: [{ name: 'token', description: 'the token, or - to read it from stdin' }],
  options: {
    dir: { type: 'string', value: '<path>', description: 'Baton directory whose authority.json names the authority', default: CONNECTION_DEFAULTS.dir },
    authority: { type: 'string', value: '<host:port>', description: 'authority to verify against (also BATON_AUTHORITY)', default: "the config's listen address, when authority.json exists" },
    offline: { type: 'boolean', description: 'do not contact any authority', default: 'off' },
  },
  examples: ['baton token inspect eyJhbGciOi…', 'echo "$TOKEN" | baton token inspect - --json'],
  async run(input, ctx) {
    const arg = input.positionals[0]!;
    let token: string;
    if (arg === '-') {
      try {
        token = (await readAll(ctx.io.stdin, MAX_TOKEN_INPUT_BYTES + 2)).trim();
      } catch {
        throw failure('ERR_TOKEN_TOO_LARGE', `stdin holds more than ${MAX_TOKEN_INPUT_BYTES} bytes`);
      }
    } else {
      token = arg.trim();
    }
    if (token.startsWith('DPoP ') || token.startsWith('Bearer ')) token = token.slice(token.indexOf(' ') + 1).trim();
    if (token.length === 0) throw failure('ERR_TOKEN_MISSING', 'no token given', 'pass the token as the argument, or `-` and the token on stdin');
    if (Buffer.byteLength(token) > MAX_TOKEN_INPUT_BYTES) throw failure('ERR_TOKEN_TOO_LARGE', `token is larger than ${MAX_TOKEN_INPUT_BYTES} bytes`);

    const now = ctx.io.clock.now();
    let report: TokenReport;
    if (flag(input, 'offline')) {
      report = await inspectToken(token, now);
    } else {
      const config = findConfig(baseDir(input, ctx.io), ctx.io);
      const target = authorityTarget(input, ctx.io, config);
      if (target === undefined) {
        report = await inspectToken(token, now);
      } else {
        ctx.facts.authority = target;
        const issuer = publicIssuerClient(target);
        try {
          ctx.out.progress(`asking ${target}…`);
          report = await inspectToken(token, now, { target, issuer, ...(config ? { expectedIssuer: config.issuer } : {}) });
        } finally {
          issuer.close();
        }
      }
    }
    ctx.out.result(report, () => formatTokenReport(report, now));
    return report.verdict === 'valid' ? EXIT.ok : EXIT.failure;
  },
};

