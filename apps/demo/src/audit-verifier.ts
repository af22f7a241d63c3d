/**
 * The key the authority's audit checkpoints verify under, as a C2SP verifier key.
 *
 * The authority does not publish it yet (GetTrustBundle's `log_authorities` is empty),
 * so the demo, which deployed the authority and owns its data dir, derives the public
 * half from the authority's checkpoint key file — the step an operator would take once
 * to publish the verifier key. Only the public key leaves this function.
 */
import path from 'node:path';
import { formatVerifierKey } from '@baton/audit';
import { readKeyFile } from '@baton/authority';
import type { AuthorityConfig } from '@baton/authority';

/** Origin line and verifier key of the authority's log (see `audit-wiring` in @baton/authority). */
export function auditVerifierOf(config: AuthorityConfig): { verifierKey: string; origin: string } {
  const origin = `${config.trustDomain}/baton/audit`;
  const { publicKey } = readKeyFile(path.join(config.dataDir, 'keys', 'audit-log.jwk'));
  return { verifierKey: formatVerifierKey(origin, publicKey), origin };
}
