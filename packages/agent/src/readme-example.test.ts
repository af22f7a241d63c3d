/**
 * The main example of README.md, run as a test. The code between the region markers
 * appears verbatim in the README (checked by test/readme-examples.test.ts at the root).
 * The setup runs the real identity and issuer services in-process, a payments resource
 * behind @baton/guard, and plays the orchestrator that hands the agent its launch token.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { isBatonError, systemClock } from '@baton/core';
import { startAuthority, startPayments } from './testing/authority.js';

const testAuthority = await startAuthority(systemClock);
const payments = await startPayments(testAuthority, systemClock);
const authority = testAuthority.address;
const Payments = payments.service; // your resource's protobuf-es service descriptor
process.env['BATON_LAUNCH_TOKEN'] = await testAuthority.launchToken('inv-7');

// #region readme
import { createAgent } from '@baton/agent';

// The orchestrator put a one-time launch token in BATON_LAUNCH_TOKEN; the SDK reads it once
// and deletes it from process.env.
const agent = await createAgent({
  authority, // host:port of the authority (identity + issuer)
  name: 'intern',
  // Least privilege: ask for less than the launch token's ceiling.
  requestedScopes: [{ action: 'approve', resource: 'payments', constraints: { amount: { min: 0, max: 5000 } } }],
  audience: 'payments', // fail at start-up if the token is not meant for it
});
agent.spiffeId; // 'spiffe://baton.local/agent/orch-1/inv-7/<instance>': born now, for this task

// Every call carries `authorization: DPoP <token>` and a fresh `dpop` proof signed by the
// agent's in-memory key, so the guard in the resource server accepts it.
const client = agent.client(Payments, payments.address);
const approved = await client.approve({ invoice: 'inv-7', amount: 4000 });

await agent.release('task complete'); // every token of this instance dies now
// #endregion

afterAll(async () => {
  await agent.dispose();
  await payments.close();
  await testAuthority.close();
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return isBatonError(err) ? err.code : `not a BatonError: ${String(err)}`;
  }
  return 'allowed';
}

describe('README example: an agent from launch token to release', () => {
  it('registers with the launch token, which is then gone from the environment', () => {
    expect(process.env['BATON_LAUNCH_TOKEN']).toBeUndefined();
    expect(agent.spiffeId).toMatch(/^spiffe:\/\/baton\.local\/agent\/orch-1\/inv-7\/[A-Za-z0-9_-]{16,64}$/);
    expect(agent.scopes).toEqual([{ action: 'approve', resource: 'payments', constraints: { amount: { max: 5000, min: 0 } } }]);
  });

  it('was allowed by the guard as itself, for the principal', () => {
    expect(approved).toMatchObject({ approvedBy: agent.spiffeId, principal: 'user:vp@acme.example' });
  });

  it('holds no usable token after release', async () => {
    expect(() => agent.token()).toThrow(expect.objectContaining({ code: 'ERR_TOKEN_RELEASED' }));
    expect(await codeOf(client.approve({ invoice: 'inv-8', amount: 100 }))).toBe('ERR_TOKEN_RELEASED');
  });
});
