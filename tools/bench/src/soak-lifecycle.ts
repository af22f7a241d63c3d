/**
 * One unit of the soak and crash load: a task's agents from launch to the end of their
 * lives, through every credential operation, with the outcome of each step checked.
 *
 * 1. The manager registers (agent SDK), approves within its limit at the guarded payments
 *    resource, is refused above it (expected ERR_CONSTRAINT_VIOLATED), renews, approves
 *    again with the new token.
 * 2. A clerk registers with read access only; its own token is refused for approvals
 *    (ERR_SCOPE_DENIED). The manager delegates `amount ≤ 500` to it; the clerk approves
 *    200 with the delegated token and is refused 5 000 (ERR_CONSTRAINT_VIOLATED).
 * 3. A third agent registers by hand (so its nonce is known), reads an invoice with a
 *    DPoP proof it makes itself, and releases. With `replayNow`, its launch token and its
 *    nonce are replayed at once (ERR_LAUNCH_TOKEN_REPLAYED, ERR_NONCE_REPLAYED), and the
 *    launch token used for the nonce replay then registers normally: a refused attempt
 *    consumed nothing.
 * 4. The manager is revoked by the operator (every other lifecycle; once the guard's view
 *    has the entry, its next call is refused with ERR_TOKEN_REVOKED) or releases; the
 *    clerk releases.
 */
import { createAgent, type Agent } from '@baton/agent';
import { dpopMetadata } from '@baton/guard';
import { createClient } from '@baton/proto';
import { PaymentsService } from '@baton/proto/baton/demo/v1/payments_pb.js';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import type { ExpectedEvent, SoakLedger } from './soak-ledger.js';
import { PAYMENTS_AUDIENCE } from './soak-payments.js';
import { approveUpTo, READ_INVOICES, type RawRegistration, type SoakWorld } from './soak-world.js';

const APPROVE_PATH = `/${PaymentsService.typeName}/${PaymentsService.method.approveInvoice.name}`;
const GET_INVOICE_PATH = `/${PaymentsService.typeName}/${PaymentsService.method.getInvoice.name}`;

/** Options of {@link runLifecycle}. */
export interface LifecycleOptions {
  /** Unique number of this lifecycle in the run (task ids derive from it). */
  readonly n: number;
  /** Replay the hand-registered agent's launch token and nonce right away (soak). Default false. */
  readonly replayNow?: boolean;
}

/** The three audit events an acknowledged registration implies. */
function registered(agent: string, task: string): ExpectedEvent[] {
  return [
    { type: 'launch_token.consumed', agent, task },
    { type: 'agent.registered', agent, task },
    { type: 'token.issued', agent, task },
  ];
}

const minted = (task: string) => (): ExpectedEvent[] => [{ type: 'launch_token.created', task }];

/** Runs one lifecycle; every outcome lands in `ledger`. Never throws. */
export async function runLifecycle(world: SoakWorld, ledger: SoakLedger, options: LifecycleOptions): Promise<void> {
  const { n } = options;
  const task = { manager: `t${n}-manager`, clerk: `t${n}-clerk`, raw: `t${n}-raw`, spare: `t${n}-spare` };
  const live: Agent[] = [];
  const paymentsClients: { close(): void }[] = [];

  /** SDK registration; its launch token goes to the replay book once acknowledged. */
  const sdkAgent = async (taskId: string, name: string, launchToken: string): Promise<Agent | undefined> => {
    const agent = await ledger.step(
      'register',
      () => createAgent({ authority: world.authority, launchToken, name, heartbeat: false, audience: PAYMENTS_AUDIENCE, rpcTimeoutMs: 5000 }),
      { events: (a) => registered(a!.spiffeId, taskId) },
    );
    if (agent) {
      live.push(agent);
      ledger.replays.acknowledged.push(launchToken);
    } else if (ledger.crashing) ledger.replays.unknown.push(launchToken);
    return agent;
  };
  const payments = (agent: Agent) => {
    const c = agent.client(PaymentsService, world.payments.address);
    paymentsClients.push(c);
    return c;
  };
  const invoice = (amount: number) => ({ invoiceId: `inv-${n}`, amount, vendor: 'acme-supplies' });

  try {
    // 1. the manager
    const ltManager = await ledger.step('mint', () => world.mint(task.manager), { events: minted(task.manager) });
    if (!ltManager) return;
    const manager = await sdkAgent(task.manager, 'manager', ltManager);
    if (!manager) return;
    const managerPayments = payments(manager);
    await ledger.step('validate', () => managerPayments.approveInvoice(invoice(400)));
    await ledger.step('validate', () => managerPayments.approveInvoice(invoice(50_000)), { denial: 'ERR_CONSTRAINT_VIOLATED' });
    const renewed = await ledger.step('renew', () => manager.renew().then(() => true), { events: () => [{ type: 'token.renewed', agent: manager.spiffeId, task: task.manager }] });
    if (!renewed) return;
    await ledger.step('validate', () => managerPayments.approveInvoice(invoice(900)));

    // 2. the clerk, and a delegation to it
    const ltClerk = await ledger.step('mint', () => world.mint(task.clerk, [READ_INVOICES]), { events: minted(task.clerk) });
    if (!ltClerk) return;
    const clerk = await sdkAgent(task.clerk, 'clerk', ltClerk);
    if (!clerk) return;
    await ledger.step('validate', () => payments(clerk).approveInvoice(invoice(100)), { denial: 'ERR_SCOPE_DENIED' });
    const grant = await ledger.step('delegate', () => manager.delegate(clerk.delegationTarget, [approveUpTo(500)], { ttl: 60 }), {
      events: () => [
        { type: 'delegation.granted', agent: clerk.spiffeId },
        { type: 'token.issued', agent: clerk.spiffeId },
      ],
    });
    if (grant) {
      const delegated = clerk.adoptDelegatedToken(grant.token).client(PaymentsService, world.payments.address);
      paymentsClients.push(delegated);
      await ledger.step('validate', () => delegated.approveInvoice(invoice(200)));
      await ledger.step('validate', () => delegated.approveInvoice(invoice(5000)), { denial: 'ERR_CONSTRAINT_VIOLATED' });
    }

    // 3. a hand registration, its nonce kept
    await rawAgent(world, ledger, task.raw, task.spare, options.replayNow === true);

    // 4. the end of the manager and the clerk
    if (n % 2 === 0) {
      const sequence = await ledger.step('revoke', () => world.revokeAgent(manager.spiffeId), {
        events: () => [{ type: 'token.revoked', agent: manager.spiffeId }],
      });
      if (sequence !== undefined) {
        const seen = await ledger.step('revocation_propagation', () => world.payments.waitForSequence(sequence).then(() => true));
        if (seen) {
          await ledger.step('validate', () => managerPayments.approveInvoice(invoice(100)), { denial: 'ERR_TOKEN_REVOKED' });
        }
      }
      // Its tokens are dead at the authority; the SDK lets go locally.
      void manager.release().catch(() => undefined);
    } else {
      await ledger.step('release', () => manager.release(), { events: () => [{ type: 'token.released', agent: manager.spiffeId }] });
    }
    await ledger.step('release', () => clerk.release(), { events: () => [{ type: 'token.released', agent: clerk.spiffeId }] });
  } finally {
    for (const c of paymentsClients) c.close();
    // Whatever is still live (a step failed or a crash cut the lifecycle short) lets go locally.
    await Promise.all(live.map((a) => (a.status === 'active' ? a.release().catch(() => undefined) : undefined)));
  }
}

/** Step 3: hand registration, an invoice read with a self-made proof, release, replays. */
async function rawAgent(world: SoakWorld, ledger: SoakLedger, task: string, spareTask: string, replayNow: boolean): Promise<void> {
  const lt = await ledger.step('mint', () => world.mint(task, [READ_INVOICES]), { events: minted(task) });
  if (!lt) return;
  const reg = await ledger.step('register', () => world.registerRaw(lt), { events: (r) => registered(r!.spiffeId, task) });
  if (!reg) {
    if (ledger.crashing) ledger.replays.unknown.push(lt);
    return;
  }
  ledger.replays.acknowledged.push(lt);
  ledger.replays.raw.push(reg);
  const payments = createClient(PaymentsService, world.payments.address);
  try {
    await ledger.step('validate', () => payments.getInvoice({ invoiceId: 'inv-raw' }, { metadata: dpopMetadata(reg.key, reg.accessToken, GET_INVOICE_PATH) }));
    // Its token is not good for approvals: the proof names the method, the scope refuses it.
    await ledger.step('validate', () => payments.approveInvoice({ invoiceId: 'inv-raw', amount: 1, vendor: 'acme-supplies' }, { metadata: dpopMetadata(reg.key, reg.accessToken, APPROVE_PATH) }), {
      denial: 'ERR_SCOPE_DENIED',
    });
  } finally {
    payments.close();
  }
  await release(world, ledger, reg);
  if (replayNow) await replayAtOnce(world, ledger, reg, task, spareTask);
}

/** Release with a DPoP proof made here. */
async function release(world: SoakWorld, ledger: SoakLedger, reg: RawRegistration): Promise<void> {
  await ledger.step('release', () => world.issuer.release({ reason: 'done' }, { metadata: dpopMetadata(reg.key, reg.accessToken, IssuerService.method.release) }), {
    events: () => [{ type: 'token.released', agent: reg.spiffeId }],
  });
}

/**
 * The launch token again (fresh key and challenge: only the launch token can be the
 * reason) and the nonce again (with an unused launch token), then that launch token once,
 * properly: a refused attempt consumes nothing.
 */
async function replayAtOnce(world: SoakWorld, ledger: SoakLedger, reg: RawRegistration, task: string, spareTask: string): Promise<void> {
  await ledger.step('replay_launch_token', async () => world.registerWith(reg.launchToken, reg.key, await world.challenge()), {
    denial: 'ERR_LAUNCH_TOKEN_REPLAYED',
    events: () => [{ type: 'launch_token.replayed', task }],
  });
  const spare = await ledger.step('mint', () => world.mint(spareTask, [READ_INVOICES]), { events: minted(spareTask) });
  if (!spare) return;
  await ledger.step('replay_nonce', () => world.registerWith(spare, reg.key, reg.nonce), { denial: 'ERR_NONCE_REPLAYED' });
  const again = await ledger.step('register', () => world.registerRaw(spare), { events: (r) => registered(r!.spiffeId, spareTask) });
  if (again) await release(world, ledger, again);
}
