// @baton/issuer: access tokens, renewal, release, introspection, JWKS, revocation and its feed.
export { createIssuer } from './create-issuer.js';
export type { Issuer } from './create-issuer.js';
export { ISSUER_DEFAULTS } from './options.js';
export type { BatonServiceName, IssuerOptions, TokenTtlDefaults } from './options.js';
export { memoryKeyRing } from './key-ring.js';
export type { KeyInfo, KeyRing, KeyRingOptions, KeyStatus, RotationResult } from './key-ring.js';
export { openFileKeyRing } from './file-key-ring.js';
export { localRevocationNotifier } from './revocation-notifier.js';
export type { RevocationNotifier } from './revocation-notifier.js';
export type { RevocationLevelName, RevocationReasonName, RevocationRecord } from './revocation-model.js';
export { SERVICE_REVOCATIONS } from './issuer-service.js';
export { ISSUER_MIGRATIONS, migrateIssuer } from './schema.js';
export { MAX_DELEGATION_DEPTH, hopHash } from './delegation-claims.js';
export type { DelegationMaterial } from './delegation-claims.js';
export type { PruneResult } from './prune.js';
