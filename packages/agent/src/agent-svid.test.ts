import { create } from '@bufbuild/protobuf';
import { describe, expect, it } from 'vitest';
import { BatonError, generateKeyPair, isBatonError, manualClock, type KeyPair } from '@baton/core';
import { X509SvidSchema, type X509Svid } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { createCaCertificate, issueSvid } from '@baton/x509';
import { SvidKeeper, acceptSvid } from './agent-svid.js';
import { manualTimers } from './testing/manual-timers.js';

const TD = 'baton.local';
const ID = 'spiffe://baton.local/agent/orch-1/task-1/instance0000000000001';
const MIN = 60_000;

function pki(start: number) {
  const caKey = generateKeyPair();
  const ca = { certificate: createCaCertificate({ privateKey: caKey.privateKey, trustDomain: TD, notBeforeMs: start - 60 * MIN, notAfterMs: start + 24 * 60 * MIN }), privateKey: caKey.privateKey };
  const wire = (key: KeyPair, notBeforeMs: number, notAfterMs: number, id = ID): X509Svid =>
    create(X509SvidSchema, {
      certificate: issueSvid({ ca, spiffeId: id, publicKey: key.publicKey, notBeforeMs, notAfterMs }),
      notBefore: BigInt(Math.floor(notBeforeMs / 1000)),
      notAfter: BigInt(Math.floor(notAfterMs / 1000)),
      x509Authorities: [ca.certificate],
    });
  return { ca, wire };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'OK';
  } catch (err) {
    return isBatonError(err) ? err.code : String(err);
  }
}

describe('acceptSvid', () => {
  const start = Date.UTC(2031, 0, 1);
  const { ca, wire } = pki(start);
  const key = generateKeyPair();

  it('accepts an SVID whose validity the local clock disagrees with (skew is the peers’ call)', () => {
    expect(acceptSvid(wire(key, start + 5 * MIN, start + 15 * MIN), ID, key.privateKey, start).svid.spiffeId).toBe(ID);
  });

  it('accepts an SVID that names this agent and certifies its key', () => {
    const { svid, bundle } = acceptSvid(wire(key, start, start + 15 * MIN), ID, key.privateKey, start);
    expect(svid.spiffeId).toBe(ID);
    expect(bundle.trustDomain).toBe(TD);
  });

  it.each<[string, () => X509Svid, string]>([
    ['another agent’s id', () => wire(key, start, start + 15 * MIN, ID.replace('0001', '0002')), 'ERR_PEER_IDENTITY_MISMATCH'],
    ['another key', () => wire(generateKeyPair(), start, start + 15 * MIN), 'ERR_PEER_CERT_INVALID'],
    ['one signed by a CA outside the bundle sent with it', () => ({ ...pki(start).wire(key, start, start + 15 * MIN), x509Authorities: [ca.certificate] }), 'ERR_PEER_CERT_INVALID'],
  ])('refuses %s', (_name, make, code) => {
    const w = make();
    expect(codeOf(() => acceptSvid(w, ID, key.privateKey, start))).toBe(code);
  });
});

describe('SvidKeeper: rotation at half-life', () => {
  function setup(renew: () => Promise<X509Svid | undefined>, deadlineMs = Number.MAX_SAFE_INTEGER) {
    const start = Date.UTC(2031, 0, 1);
    const clock = manualClock(start);
    const timers = manualTimers(clock);
    const { wire } = pki(start);
    const key = generateKeyPair();
    const events: string[] = [];
    const keeper = new SvidKeeper(acceptSvid(wire(key, start - MIN, start + 15 * MIN), ID, key.privateKey, start), {
      spiffeId: ID,
      privateKey: key.privateKey,
      taskDeadlineMs: deadlineMs,
      clock,
      timers,
      retryInitialDelayMs: 1000,
      retryMaxDelayMs: 8000,
      renew,
      onRenewed: (s) => events.push(`renewed ${s.notAfter}`),
      onFailure: (e, at) => events.push(`failed ${e.code} ${at === undefined ? 'gave up' : 'retry'}`),
    });
    return { clock, timers, keeper, wire, key, events, start };
  }

  it('renews at half the lifetime (measured from notBefore) and swaps the source', async () => {
    let s!: ReturnType<typeof setup>;
    s = setup(async () => s.wire(s.key, s.clock.now() - MIN, s.clock.now() + 15 * MIN));
    const changes: string[] = [];
    s.keeper.source.onChange(() => changes.push(s.keeper.svid.spiffeId));
    s.keeper.schedule();
    // Lifetime 16 min from notBefore = start - 1 min: due at start + 7 min.
    expect(s.timers.pending().map((p) => p.at - s.start)).toEqual([7 * MIN]);
    const first = s.keeper.svid.certificate;
    s.timers.runNext();
    await new Promise((r) => setImmediate(r));
    expect(s.keeper.svid.certificate.equals(first)).toBe(false);
    expect(changes).toEqual([ID]);
    expect(s.events).toEqual([`renewed ${s.keeper.svid.notAfter}`]);
    // The next rotation is planned from the new certificate.
    expect(s.timers.pending()).toHaveLength(1);
  });

  it('retries with backoff on transient failures and gives up on terminal ones', async () => {
    let calls = 0;
    const s = setup(async () => {
      calls++;
      throw new BatonError(calls === 1 ? 'ERR_UNAVAILABLE' : 'ERR_AGENT_SUPERSEDED');
    });
    s.keeper.schedule();
    s.timers.runNext();
    await new Promise((r) => setImmediate(r));
    expect(s.events).toEqual(['failed ERR_UNAVAILABLE retry']);
    s.timers.runNext();
    await new Promise((r) => setImmediate(r));
    expect(s.events).toEqual(['failed ERR_UNAVAILABLE retry', 'failed ERR_AGENT_SUPERSEDED gave up']);
    expect(s.timers.pending()).toHaveLength(0);
  });

  it('does not rotate an SVID that already lives until the task deadline', () => {
    const s = setup(async () => undefined, Date.UTC(2031, 0, 1) + 10 * MIN);
    s.keeper.schedule();
    expect(s.timers.pending()).toHaveLength(0);
  });

  it('refuses a renewed SVID that is not its own, keeping the current one', async () => {
    let s!: ReturnType<typeof setup>;
    s = setup(async () => s.wire(generateKeyPair(), s.clock.now() - MIN, s.clock.now() + 15 * MIN));
    const before = s.keeper.svid.certificate;
    let code = '';
    await s.keeper.renewNow().catch((e: unknown) => (code = isBatonError(e) ? e.code : 'x'));
    expect(code).toBe('ERR_PEER_CERT_INVALID');
    expect(s.keeper.svid.certificate.equals(before)).toBe(true);
  });
});
