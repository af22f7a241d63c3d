/**
 * Which credentials an agent process acts with: its own token from registration, or a
 * child token a delegator obtained for it (adopted, used with the agent's own key).
 */
import type { Agent, DelegatedToken } from '@baton/agent';
import { BatonError, b64urlDecode, b64urlEncode } from '@baton/core';
import type { Client } from '@baton/proto';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';

/** `own` (default) or `delegated`. */
export type CredentialChoice = 'own' | 'delegated';

/** What both kinds of credentials offer. */
interface Credentials {
  token(): string;
  callMetadata(method: string): { authorization: string; dpop: string };
  client(service: typeof PaymentsService, target: string): Client<typeof PaymentsService>;
}

/** The agent's credentials, with one payments channel per kind. */
export class AgentCredentials {
  #delegated: DelegatedToken | undefined;
  readonly #clients = new Map<CredentialChoice, Client<typeof PaymentsService>>();

  constructor(
    private readonly agent: Agent,
    private readonly paymentsTarget: string,
  ) {}

  /** Reads a command's `with` field. */
  static choiceOf(value: unknown): CredentialChoice {
    if (value === undefined || value === 'own') return 'own';
    if (value === 'delegated') return 'delegated';
    throw new TypeError('with must be "own" or "delegated"');
  }

  /** The adopted child token; ERR_TOKEN_MISSING before one was adopted. */
  get delegated(): DelegatedToken {
    if (!this.#delegated) throw new BatonError('ERR_TOKEN_MISSING', 'no delegated token adopted');
    return this.#delegated;
  }

  /** Adopts a child token (replacing an earlier one). */
  adopt(token: string): DelegatedToken {
    this.#delegated = this.agent.adoptDelegatedToken(token);
    this.#clients.delete('delegated');
    return this.#delegated;
  }

  of(choice: CredentialChoice): Credentials {
    return choice === 'delegated' ? this.delegated : this.agent;
  }

  payments(choice: CredentialChoice): Client<typeof PaymentsService> {
    let c = this.#clients.get(choice);
    if (!c) {
      c = this.of(choice).client(PaymentsService, this.paymentsTarget);
      this.#clients.set(choice, c);
    }
    return c;
  }

  /**
   * The forgery of the demo: the delegated token with its payload edited so its
   * `approve:payments` scope claims `amount ≤ max`. The agent's own key still signs the
   * proofs; only the authority's signature over the payload cannot follow the edit.
   */
  forgedPayments(max: number): Client<typeof PaymentsService> {
    const [h, p, s] = this.delegated.token().split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(b64urlDecode(p)).toString('utf8')) as { scopes?: { action: string; constraints?: { amount?: { max?: number } } }[] };
    for (const scope of claims.scopes ?? []) {
      if (scope.action === 'approve' && scope.constraints?.amount) scope.constraints.amount.max = max;
    }
    const forged = `${h}.${b64urlEncode(Buffer.from(JSON.stringify(claims), 'utf8'))}.${s}`;
    return this.agent.adoptDelegatedToken(forged).client(PaymentsService, this.paymentsTarget);
  }
}
