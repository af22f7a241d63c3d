// @baton/identity: IdentityService — workflows, orchestrators, launch tokens, challenges,
// registration, heartbeats, discovery and the trust bundle. See README.md.
export { createIdentity } from './create-identity.js';
export type { Identity } from './create-identity.js';
export { IDENTITY_DEFAULTS } from './options.js';
export type { IdentityMeter, IdentityOptions } from './options.js';
export { POLICY_DEFAULTS, POLICY_LIMITS, validatePolicy } from './policy.js';
export type { StoredHeartbeatPolicy, StoredPolicy } from './policy.js';
export { LAUNCH_TOKEN_PREFIX, isWellFormedLaunchToken } from './launch-token-format.js';
export { IDENTITY_MIGRATIONS } from './schema.js';
export { IDENTITY_CA_DEFAULTS, memoryIdentityCa } from './identity-ca.js';
export type { CaStatus, IdentityCa, IdentityCaOptions, IssuedSvid } from './identity-ca.js';
export { caRotationRecord } from './svid-audit.js';
export { openFileIdentityCa, openSharedIdentityCa } from './file-ca.js';
export type { SweepResult } from './sweeper.js';
// The registration message lives in @baton/core so the agent SDK can sign it without
// depending on this server package; re-exported here for convenience.
export { REGISTRATION_CONTEXT, registrationMessage } from '@baton/core';
