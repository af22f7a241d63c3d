/**
 * `npm run demo -- exfiltration`: the framework bug that hands an attacker everything in
 * an agent's environment and memory, once against an agent holding a static API key and
 * once against a Baton agent. Each step is what the attacker then tries.
 */
import { randomId } from '@baton/core';
import type { ChildHandle } from './child-process.js';
import type { DemoWorld } from './demo-world.js';
import { mintLaunchToken, newTaskId } from './governance.js';
import type { Found } from './memory-dump.js';
import type { Verdict } from './narrator.js';
import { currentTraceparent, inSpan } from './process-tracing.js';
import { READ_INVOICES, READ_VENDORS, approveUpTo } from './expense-cast.js';
import type { StepSpec } from './step-runner.js';

/** What the dumps yielded, for the comparison table. */
export interface Loot {
  legacy: Found[];
  baton: Found[];
  legacyReplay?: Verdict;
  batonUsable: number;
}

/** The Baton agent's task: approvals up to $5,000 and the reads they need. */
const TASK_SCOPES = [approveUpTo(5000), READ_INVOICES, READ_VENDORS];

const BIG = { invoiceId: 'inv-1003', amount: 50_000, vendor: 'initech' };
const SMALL = { invoiceId: 'inv-1001', amount: 4000, vendor: 'acme-supplies' };

/** The first few characters of a secret: enough to recognise it, not to use it. */
export const peek = (v: string): string => `${v.slice(0, 12)}…`;

function lootLines(found: readonly Found[]): (readonly [string, string])[] {
  if (found.length === 0) return [['found', 'nothing']];
  return found.map((f) => ['found', `${f.kind} in ${f.where.join(' + ')}: ${peek(f.value)}${f.complete ? '' : ' (cut short by the snapshot)'}`] as const);
}

type Reply = { outcome: Verdict; code: string | null; attempts?: { how: string; outcome: Verdict; code: string | null }[] };

/** The steps, in order; `loot` is filled in as they run. */
export function exfiltrationSteps(world: DemoWorld, loot: Loot): StepSpec[] {
  let legacyAddress = '';
  let batonAgent: ChildHandle | undefined;
  let mintedLaunchToken = '';
  const withAttacker = async <T>(fn: (attacker: ChildHandle) => Promise<T>): Promise<T> => {
    const attacker = await world.startAttacker(legacyAddress ? { LEGACY_PAYMENTS: legacyAddress } : {});
    try {
      return await fn(attacker);
    } finally {
      await attacker.stop();
    }
  };

  return [
    {
      id: 'static-key-exfiltrated',
      expected: 'allow',
      async run() {
        const apiKey = `sk_live_${randomId(24)}`;
        const legacy = await world.startProcess('legacy-payments', 'legacy-payments-server.js', { LEGACY_API_KEY: apiKey });
        legacyAddress = String(legacy.ready['address']);
        const agent = await world.startProcess('legacy-agent', 'legacy-agent-process.js', { PAYMENTS_API_KEY: apiKey, LEGACY_PAYMENTS: legacyAddress });
        await agent.request('approve', SMALL);
        loot.legacy = (await agent.request<{ found: Found[] }>('dump')).found;
        await agent.stop(); // the agent is done and gone; its key is not
        const key = loot.legacy.find((f) => f.kind === 'api-key');
        if (!key) throw new Error('the dump found no API key');
        const r = await withAttacker((a) => a.request<Reply>('replay-api-key', { apiKey: key.value, ...BIG, traceparent: currentTraceparent() }));
        loot.legacyReplay = r.outcome;
        return {
          actual: r.outcome,
          code: r.code,
          headline: `today: the API key from a dump of an agent that has since exited approves $50,000 from another process`,
          details: [...lootLines(loot.legacy), ['why', 'a static key is valid for everything it can do, from anywhere, until someone rotates it']],
        };
      },
    },
    {
      id: 'env-dump-clean',
      expected: 'deny',
      async run() {
        const minted = await inSpan('orchestrator: mint launch token', () => mintLaunchToken(world.governance, newTaskId(), TASK_SCOPES));
        mintedLaunchToken = minted.launchToken;
        batonAgent = await inSpan('orchestrator: spawn agent process', () => world.spawnAgent('payments-executor', minted.launchToken));
        await batonAgent.request('approve', { ...SMALL, traceparent: currentTraceparent() });
        const dump = await batonAgent.request<{ found: Found[]; envNames: string[] }>('dump', { traceparent: currentTraceparent() });
        loot.baton = dump.found;
        const inEnv = dump.found.filter((f) => f.where.includes('env'));
        return {
          actual: inEnv.length > 0 ? 'allow' : 'deny',
          code: null,
          headline: 'with Baton: the same dump of a working agent; its process.env holds no credential',
          details: [['env', dump.envNames.join(', ')], ...lootLines(dump.found)],
        };
      },
    },
    {
      id: 'launch-token-replay-refused',
      expected: 'deny',
      expectedCodes: ['ERR_LAUNCH_TOKEN_REPLAYED'],
      async run() {
        // The kernel's copy of the spawn environment still shows it (Linux); elsewhere the
        // attacker is assumed to have copied it at spawn time.
        const found = loot.baton.find((f) => f.kind === 'launch-token')?.value ?? mintedLaunchToken;
        const r = await withAttacker((a) => a.request<Reply>('register', { launchToken: found, traceparent: currentTraceparent() }));
        return { actual: r.outcome, code: r.code, headline: 'the launch token from /proc/<pid>/environ: already consumed at registration' };
      },
    },
    {
      id: 'exfiltrated-token-refused',
      expected: 'deny',
      expectedCodes: ['ERR_PROOF_KEY_MISMATCH', 'ERR_PROOF_MISSING'],
      async run() {
        // Assume the worst: if the snapshot cut the token short, a core dump would not have.
        const seen = loot.baton.find((f) => f.kind === 'access-token');
        const token = seen?.complete ? seen.value : (await batonAgent!.request<{ token: string }>('leak-token', { traceparent: currentTraceparent() })).token;
        const r = await withAttacker((a) => a.request<Reply>('replay-token', { token, ...BIG, traceparent: currentTraceparent() }));
        const attempts = r.attempts ?? [];
        const allowed = attempts.some((x) => x.outcome === 'allow');
        loot.batonUsable = allowed ? 1 : 0;
        return {
          actual: allowed ? 'allow' : 'deny',
          code: attempts[attempts.length - 1]?.code ?? null,
          headline: "the agent's access token (whole, assuming the worst), replayed without the agent's key to approve $50,000",
          details: attempts.map((x) => ['attempt', `${x.how}: ${x.outcome === 'allow' ? 'ALLOWED' : `refused ${x.code}`}`] as const),
        };
      },
    },
    {
      id: 'private-key-not-exposed',
      expected: 'deny',
      async run() {
        const keys = loot.baton.filter((f) => f.kind === 'private-key');
        await batonAgent?.request('release', { traceparent: currentTraceparent() });
        return {
          actual: keys.length > 0 ? 'allow' : 'deny',
          code: null,
          headline: "the agent's private key: not in its environment and not in its JavaScript heap",
          details: [['why', 'generated in memory as a native KeyObject; no getter, never serialized; the token is useless without it and dies at release']],
        };
      },
    },
  ];
}
