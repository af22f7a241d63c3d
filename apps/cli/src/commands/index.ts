/**
 * Every command, in the order `baton --help` lists them, and the command groups.
 */
import type { CommandSpec } from '../command-spec.js';
import { auditProveCommand, auditVerifyCommand } from './audit-verify.js';
import { auditQueryCommand, auditTailCommand } from './audit.js';
import { authorityStartCommand } from './authority.js';
import { initCommand } from './init.js';
import { keysRotateCommand } from './keys.js';
import { launchTokenCreateCommand } from './launch-token.js';
import { orchestratorAddCommand, orchestratorKeygenCommand } from './orchestrator.js';
import { revokeCommand } from './revoke.js';
import { tokenInspectCommand } from './token.js';
import { workflowCreateCommand, workflowListCommand, workflowShowCommand } from './workflow.js';

/** All commands. */
export const COMMANDS: readonly CommandSpec[] = Object.freeze([
  initCommand,
  authorityStartCommand,
  workflowCreateCommand,
  workflowListCommand,
  workflowShowCommand,
  orchestratorKeygenCommand,
  orchestratorAddCommand,
  launchTokenCreateCommand,
  tokenInspectCommand,
  revokeCommand,
  keysRotateCommand,
  auditTailCommand,
  auditQueryCommand,
  auditVerifyCommand,
  auditProveCommand,
]);

/** One-line descriptions of the command groups. */
export const GROUPS: Readonly<Record<string, string>> = Object.freeze({
  authority: 'run the authority',
  workflow: 'workflows and their policy (operator)',
  orchestrator: 'orchestrator keys (operator)',
  'launch-token': 'one-time launch tokens (orchestrator)',
  token: 'inspect access tokens',
  keys: 'token-signing keys (operator)',
  audit: 'the tamper-evident audit log (operator)',
});
