/**
 * Issuance over gRPC with durable audit, against a bare grpc-js unary echo in the same
 * run (DESIGN §10, issue 2 numbers).
 *
 * - Throughput: `Renew` round trips per second by registered agents (agent SDK → the
 *   real authority's IssuerService over a real socket: DPoP check, renewal transaction
 *   on SQLite, new signed token, `token.renewed` made durable in the audit client's
 *   fsynced spool before the reply), with `concurrency` agents in flight. Each window's
 *   clock stops only once the audit client has shipped every event of the window into
 *   the audit log (SQLite, synchronous FULL), so the figure is the sustainable rate,
 *   audit included. Reference: echo round trips per second at the same concurrency,
 *   carrying a payload the size of the token, in windows alternating with the renewal
 *   windows.
 * - Latency: register (GetChallenge → Register, identity asking the issuer for the first
 *   token) plus the first guarded call to a resource server, one agent after another;
 *   reference: one echo round trip.
 */
import type { Agent } from '@baton/agent';
import { startBenchAuthority, type BenchAuthority } from './bench-authority.js';
import { startGrpcEcho, type GrpcEcho } from './grpc-echo.js';
import { median, quantile, row, summarize, workersOpsPerSecond, type BenchOptions, type BenchRow } from './harness.js';
import { startPayments, type PaymentsResource } from './payments-resource.js';

/** Renewals in a window of `ms`, timed until the audit backlog of the window is in the log. */
async function renewWindow(authority: BenchAuthority, agents: readonly Agent[], ms: number): Promise<{ count: number; ms: number; drainMs: number }> {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    agents.map(async (a) => {
      while (performance.now() < end) {
        await a.renew();
        n++;
      }
    }),
  );
  const stopped = performance.now();
  if (authority.auditClient && !(await authority.auditClient.drain(60_000))) throw new Error('audit client did not drain within 60 s');
  const done = performance.now();
  return { count: n, ms: done - start, drainMs: done - stopped };
}

/** Echo round trips in a window of `ms` with one loop per body. */
async function echoWindow(bodies: ReadonlyArray<() => Promise<unknown>>, ms: number): Promise<{ count: number; ms: number }> {
  let n = 0;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    bodies.map(async (body) => {
      while (performance.now() < end) {
        await body();
        n++;
      }
    }),
  );
  return { count: n, ms: performance.now() - start };
}

async function freshAgents(authority: BenchAuthority, count: number, label: string): Promise<Agent[]> {
  const out: Agent[] = [];
  for (let i = 0; i < count; i++) out.push(await authority.agent(`bench-${label}-${i}`));
  return out;
}

/** One register-plus-first-call sample, ms: [register, register + first call]. */
async function registerAndCall(authority: BenchAuthority, payments: PaymentsResource, task: string): Promise<[number, number]> {
  const launch = await authority.launchToken(task);
  const t0 = performance.now();
  const agent = await authority.agent(task, launch);
  const t1 = performance.now();
  const client = agent.client(payments.service, payments.address);
  const res = await client.approve({ invoice: 'inv-1', amount: 400 });
  const t2 = performance.now();
  if (res.approvedBy !== agent.spiffeId) throw new Error('the first call was not answered for this agent');
  await agent.release('bench sample done');
  return [t1 - t0, t2 - t0];
}

/** Echo and renewal windows per run, alternating. */
const WINDOWS = 2;

interface Throughput {
  readonly renew: number[];
  readonly echo: number[];
  readonly ratio: number[];
  readonly drain: number[];
}

/**
 * One throughput run: fresh agents, then alternating echo and renewal windows, so both
 * see the same machine conditions; rates from the summed windows.
 */
async function throughputRun(authority: BenchAuthority, echoBodies: ReadonlyArray<() => Promise<unknown>>, concurrency: number, ms: number, label: string, into: Throughput): Promise<void> {
  const agents = await freshAgents(authority, concurrency, label);
  await authority.auditClient?.drain(30_000);
  const tally = { echo: 0, echoMs: 0, renew: 0, renewMs: 0, drainMs: 0 };
  for (let w = 0; w < WINDOWS; w++) {
    const ew = await echoWindow(echoBodies, ms / WINDOWS);
    const rw = await renewWindow(authority, agents, ms / WINDOWS);
    tally.echo += ew.count;
    tally.echoMs += ew.ms;
    tally.renew += rw.count;
    tally.renewMs += rw.ms;
    tally.drainMs += rw.drainMs;
  }
  const echoRate = tally.echo / (tally.echoMs / 1000);
  const renewRate = tally.renew / (tally.renewMs / 1000);
  into.echo.push(echoRate);
  into.renew.push(renewRate);
  into.drain.push(tally.drainMs / WINDOWS);
  into.ratio.push(renewRate / echoRate);
  await Promise.all(agents.map((a) => a.release('bench run done')));
}

const newThroughput = (): Throughput => ({ renew: [], echo: [], ratio: [], drain: [] });

/** Issuance throughput vs echo, and the register-plus-first-call round trip vs one echo. */
export async function benchIssuance({ quick }: BenchOptions): Promise<BenchRow[]> {
  const runs = quick ? 3 : 5;
  const ms = quick ? 1200 : 3000;
  const concurrency = 16;
  const samples = quick ? 10 : 25;
  const diagRuns = 2;
  const authority = await startBenchAuthority({ audit: true });
  let echo: GrpcEcho | undefined;
  let payments: PaymentsResource | undefined;
  try {
    echo = await startGrpcEcho();
    payments = await startPayments(authority);
    const sample = await authority.agent('bench-size-probe');
    const payload = Buffer.alloc(Buffer.byteLength(sample.token()), 0x61);
    const e = echo;
    const echoBodies = Array.from({ length: concurrency }, () => () => e.call(payload));
    await workersOpsPerSecond(echoBodies, 300); // warm-up
    for (let i = 0; i < 20; i++) await sample.renew();
    await authority.auditClient?.drain(30_000);

    const tp = newThroughput();
    const acc = { echoP50: [] as number[], reg: [] as number[][], first: [] as number[][] };
    for (let r = 0; r < runs; r++) {
      await throughputRun(authority, echoBodies, concurrency, ms, `renew-${r}`, tp);

      const echoLat: number[] = [];
      for (let i = 0; i < 200; i++) {
        const t = performance.now();
        await e.call(payload);
        echoLat.push(performance.now() - t);
      }
      acc.echoP50.push(quantile(echoLat, 0.5));
      const reg: number[] = [];
      const first: number[] = [];
      for (let i = 0; i < samples; i++) {
        const [a, b] = await registerAndCall(authority, payments, `bench-register-${r}-${i}`);
        reg.push(a);
        first.push(b);
      }
      await authority.auditClient?.drain(30_000);
      acc.reg.push(reg);
      acc.first.push(first);
    }

    // Diagnosis: the same renewals through an authority without audit (what audit costs).
    const bare = newThroughput();
    const noAudit = await startBenchAuthority({ audit: false });
    let noAuditPayments: PaymentsResource | undefined;
    try {
      noAuditPayments = await startPayments(noAudit); // same revocation-feed fan-out as above
      for (let r = 0; r < diagRuns; r++) await throughputRun(noAudit, echoBodies, concurrency, ms, `bare-${r}`, bare);
    } finally {
      await noAuditPayments?.close();
      await noAudit.close();
    }

    const echoP50 = summarize(acc.echoP50).value;
    const perRun = (xs: number[][], q: number) => summarize(xs.map((s) => quantile(s, q)));
    return [
      row({
        name: 'issue_vs_grpc_echo', unit: 'renewals/s', stats: summarize(tp.renew),
        reference: { name: 'bare grpc-js echo req/s', value: summarize(tp.echo).value }, ratio: median(tp.ratio),
        target: '≥ 0.6', meets: (_v, ratio) => ratio !== null && ratio >= 0.6,
        note: `Renew through the real authority in this process (startAuthority of @baton/authority: identity, issuer, delegation, anomaly, audit) with durable audit (spool fsync before each reply; timing includes shipping each window's events into the SQLite log, median ${summarize(tp.drain).value.toFixed(0)} ms after each window); ${concurrency} agents in flight, ${WINDOWS} renewal windows of ${ms / WINDOWS} ms per run alternating with echo windows; echo at the same concurrency with a token-sized payload; ratio = median of per-run ratios ${tp.ratio.map((x) => x.toFixed(2)).join(', ')}`,
      }),
      row({
        name: 'issue_no_audit_vs_grpc_echo', unit: 'renewals/s', stats: summarize(bare.renew),
        reference: { name: 'bare grpc-js echo req/s', value: summarize(bare.echo).value }, ratio: median(bare.ratio),
        note: `diagnosis only: the same Renew load on an authority without audit (no AuditService, no audit client); per-run ratios ${bare.ratio.map((x) => x.toFixed(2)).join(', ')}`,
      }),
      row({
        name: 'register_first_token_p50_ms', unit: 'ms', stats: perRun(acc.reg, 0.5),
        reference: { name: 'echo round trip p50 (ms)', value: echoP50 }, ratio: 'value/ref',
        note: `createAgent: key generation, GetChallenge, Register (identity checks the launch token and asks the issuer to Issue over gRPC), new channels; ${samples} agents per run, one after another`,
      }),
      row({
        name: 'register_plus_first_call_p50_ms', unit: 'ms', stats: perRun(acc.first, 0.5),
        reference: { name: 'echo round trip p50 (ms)', value: echoP50 }, ratio: 'value/ref',
        note: 'the above plus the first Approve call to a guarded gRPC resource server (new channel, DPoP proof, guard check)',
      }),
      row({
        name: 'register_plus_first_call_p99_ms', unit: 'ms', stats: perRun(acc.first, 0.99),
        reference: { name: 'echo round trip p50 (ms)', value: echoP50 }, ratio: 'value/ref',
      }),
    ];
  } finally {
    await payments?.close();
    await echo?.close();
    await authority.close();
  }
}
