/**
 * Registration: generate the key, take the launch token, GetChallenge, sign the
 * registration message, Register. The launch token is used once, here, and not kept
 * afterwards.
 */
import { BatonError, registrationMessage } from '@baton/core';
import type { Clock, Scope } from '@baton/core';
import { scopeToProto } from '@baton/proto';
import type { Client } from '@baton/proto';
import { IdentityService } from '@baton/proto/baton/identity/v1/identity_pb.js';
import type { X509Svid } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { createAgentClient } from './agent-client.js';
import { AgentKey } from './agent-key.js';
import { takeLaunchToken } from './launch-token.js';
import { resolveOptions } from './options.js';
import type { AgentOptions, ResolvedAgentOptions } from './options.js';
import { metadataHook } from './session.js';
import type { Session } from './session.js';
import { readTokenState } from './token-state.js';
import type { TokenState } from './token-state.js';

/** What a successful registration yields. */
export interface Registration {
  readonly state: TokenState;
  readonly instanceId: string;
  readonly heartbeatIntervalSeconds: number;
  /** The instance this registration superseded (its tokens are revoked), if any. */
  readonly supersededSpiffeId: string | undefined;
  /** The X.509-SVID, when the authority runs an identity CA. */
  readonly svid: X509Svid | undefined;
}

/** Inputs of {@link registerWithIdentity}. */
export interface RegisterInput {
  readonly identity: Client<typeof IdentityService>;
  readonly key: AgentKey;
  readonly launchToken: string;
  readonly name: string | undefined;
  readonly requestedScopes: readonly Scope[];
  readonly requestedTtlSeconds: number;
  readonly clock: Clock;
  readonly rpcTimeoutMs: number;
}


/**
 * Runs the registration exchange. Throws the authority's BatonError on refusal, or
 * ERR_TOKEN_CLAIMS_INVALID if the token it returns is not bound to this agent's key or
 * names another identity (the agent would be unable to use it).
 */
export async function registerWithIdentity(input: RegisterInput): Promise<Registration> {
  const { identity, key } = input;
  const challenge = await identity.getChallenge({}, { deadlineMs: input.rpcTimeoutMs });
  const publicKey = key.rawPublicKey;
  const signature = key.sign(registrationMessage(challenge.nonce, input.launchToken, publicKey));
  const res = await identity.register(
    {
      launchToken: input.launchToken,
      publicKey,
      nonce: challenge.nonce,
      signature,
      requestedScopes: input.requestedScopes.map(scopeToProto),
      requestedTtlSeconds: input.requestedTtlSeconds,
      name: input.name ?? '',
    },
    { deadlineMs: input.rpcTimeoutMs },
  );
  const state = readTokenState(res.accessToken, input.clock);
  if (state.jkt !== key.thumbprint) {
    throw new BatonError('ERR_TOKEN_CLAIMS_INVALID', 'registered token is not bound to the agent key');
  }
  if (state.spiffeId !== res.spiffeId) {
    throw new BatonError('ERR_TOKEN_CLAIMS_INVALID', 'registered token names another subject');
  }
  return {
    state,
    instanceId: res.instanceId,
    heartbeatIntervalSeconds: res.heartbeatIntervalSeconds,
    supersededSpiffeId: res.supersededSpiffeId === '' ? undefined : res.supersededSpiffeId,
    svid: res.svid,
  };
}

/** Everything an Agent is built from once registration succeeded. Internal. */
export interface AgentBootstrap {
  readonly options: ResolvedAgentOptions;
  readonly key: AgentKey;
  readonly registration: Registration;
  /** Identity client on the agent's session (Heartbeat, later Publish). */
  readonly identity: Client<typeof IdentityService>;
  readonly session: Session;
}

/**
 * Validates options, takes the launch token (deleting `BATON_LAUNCH_TOKEN`), generates
 * the key and registers. The identity channel is closed again if registration fails.
 */
export async function bootstrapAgent(options: AgentOptions): Promise<AgentBootstrap> {
  const resolved = resolveOptions(options);
  let launchToken: string | undefined = takeLaunchToken(options.launchToken, resolved.env);
  const key = AgentKey.generate();
  const session: Session = { state: undefined, status: 'active' };
  const identity = createAgentClient(IdentityService, resolved.identityTarget, metadataHook(key, session, resolved.clock), {
    credentials: resolved.credentials,
    defaultDeadlineMs: resolved.rpcTimeoutMs,
  });
  try {
    const registration = await registerWithIdentity({
      identity,
      key,
      launchToken,
      name: resolved.name,
      requestedScopes: resolved.requestedScopes,
      requestedTtlSeconds: resolved.requestedTtlSeconds,
      clock: resolved.clock,
      rpcTimeoutMs: resolved.rpcTimeoutMs,
    });
    session.state = registration.state;
    return { options: resolved, key, registration, identity, session };
  } catch (err) {
    identity.close();
    throw err;
  } finally {
    // Used once; drop the reference so nothing here keeps it alive.
    launchToken = undefined;
  }
}
