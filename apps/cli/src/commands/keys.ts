/**
 * `baton keys rotate [--emergency]`: IssuerService.RotateKeys with the operator key.
 */
import { flag, type CommandSpec } from '../command-spec.js';
import { withConnection } from '../connection.js';

export const keysRotateCommand: CommandSpec = {
  path: ['keys', 'rotate'],
  summary: 'Rotate the token-signing key.',
  description:
    'Operator only. New tokens are signed with a new key at once. A normal rotation keeps the old public key published until the tokens it signed expire; --emergency revokes the old key immediately, so every token it signed stops verifying everywhere (use it when the key may be compromised).',
  positionals: [],
  options: {
    emergency: { type: 'boolean', description: 'revoke the old key now instead of letting its tokens run out', default: 'off' },
  },
  client: true,
  examples: ['baton keys rotate', 'baton keys rotate --emergency'],
  async run(input, ctx) {
    const emergency = flag(input, 'emergency');
    const res = await withConnection(input, ctx, (c) => c.issuer().rotateKeys({ emergency }));
    const sequence = Number(res.sequence);
    ctx.out.result({ rotated: { newKid: res.newKid, retiredKid: res.retiredKid, emergency, sequence } }, () =>
      [
        `rotated the signing key${emergency ? ' (emergency)' : ''}`,
        `  new kid      ${res.newKid}`,
        `  retired kid  ${res.retiredKid || '-'}${emergency ? ' (revoked: its tokens no longer verify)' : ' (still verifies the tokens it signed until they expire)'}`,
        ...(sequence ? [`  revocation sequence ${sequence}`] : []),
      ].join('\n'),
    );
  },
};
