/**
 * The agent's X.509-SVID: received at registration, checked before use, and rotated at
 * half its lifetime (RenewSvid), retrying with backoff until it expires. The SVID
 * certifies the agent's own Ed25519 key, so the private key stays where it always was.
 * Channels read it through an observable source: a server re-keys at once, clients on
 * their next connection.
 */
import { randomInt, type KeyObject } from 'node:crypto';
import { BatonError, isBatonError, parseSpiffeId, type Clock, type ErrorCode } from '@baton/core';
import type { X509Svid } from '@baton/proto/baton/identity/v1/identity_pb.js';
import { TrustBundle, createSvidSource, svidOf, verifySvid, type MutableSvidSource, type Svid } from '@baton/x509';
import { Timer, type AgentTimers } from './timers.js';

/** Failures no retry of RenewSvid can fix. */
const TERMINAL: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'ERR_TASK_DEADLINE_PASSED',
  'ERR_TOKEN_EXPIRED',
  'ERR_TOKEN_REVOKED',
  'ERR_TOKEN_RELEASED',
  'ERR_AGENT_SUPERSEDED',
  'ERR_AGENT_NOT_FOUND',
  'ERR_PERMISSION_DENIED',
]);

/** What the keeper needs from the agent. */
export interface SvidKeeperDeps {
  readonly spiffeId: string;
  readonly privateKey: KeyObject;
  readonly taskDeadlineMs: number;
  readonly clock: Clock;
  readonly timers: AgentTimers;
  readonly retryInitialDelayMs: number;
  readonly retryMaxDelayMs: number;
  /** One RenewSvid round trip. */
  renew(): Promise<X509Svid | undefined>;
  onRenewed(svid: Svid): void;
  onFailure(error: BatonError, retryAtMs: number | undefined): void;
}

/**
 * Reads an SVID the authority sent: it must name this agent, certify this agent's key
 * and verify under the bundle sent with it. ERR_PEER_CERT_INVALID (or
 * ERR_PEER_IDENTITY_MISMATCH) otherwise: the agent must not present a certificate that is
 * not its own.
 */
export function acceptSvid(wire: X509Svid, spiffeId: string, privateKey: KeyObject, nowMs: number): { svid: Svid; bundle: TrustBundle } {
  const td = parseSpiffeId(spiffeId).trustDomain;
  const bundle = TrustBundle.fromDer(td, wire.x509Authorities);
  let svid: Svid;
  try {
    svid = svidOf(wire.certificate, privateKey);
  } catch {
    throw new BatonError('ERR_PEER_CERT_INVALID', 'the authority sent an SVID that does not certify this agent key');
  }
  // Checked at a time inside its validity: a skewed local clock must not make a good SVID
  // unusable (peers judge time with theirs); identity, key and chain are what count here.
  const at = Math.min(Math.max(nowMs, svid.notBefore), svid.notAfter);
  verifySvid(svid.certificate, { bundle, role: 'client', expectedId: spiffeId, nowMs: at });
  return { svid, bundle };
}

/** Keeps the agent's SVID current. Internal. */
export class SvidKeeper {
  readonly source: MutableSvidSource;
  readonly #deps: SvidKeeperDeps;
  readonly #timer: Timer;
  #receivedAt: number;
  #attempt = 0;
  #stopped = false;
  #inflight: Promise<void> | undefined;

  constructor(initial: { svid: Svid; bundle: TrustBundle }, deps: SvidKeeperDeps) {
    this.#deps = deps;
    this.#timer = new Timer(deps.timers);
    this.source = createSvidSource(initial);
    this.#receivedAt = deps.clock.now();
  }

  /** The current SVID. */
  get svid(): Svid {
    return this.source.svid!;
  }

  /** When the current SVID is due for rotation: half its lifetime, measured from issue and from receipt (the earlier). */
  get dueAt(): number {
    const s = this.svid;
    const half = (s.notAfter - s.notBefore) / 2;
    return Math.min(s.notBefore + half, this.#receivedAt + half);
  }

  /** Plans the next rotation. An SVID that already lives until the task deadline is kept. */
  schedule(): void {
    if (this.#stopped) return;
    this.#attempt = 0;
    if (this.svid.notAfter >= this.#deps.taskDeadlineMs) return;
    this.#timer.set(() => void this.#run(), this.dueAt - this.#deps.clock.now());
  }

  /** Rotates now (one at a time). */
  renewNow(): Promise<void> {
    this.#inflight ??= this.#renewOnce().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  stop(): void {
    this.#stopped = true;
    this.#timer.cancel();
  }

  async #renewOnce(): Promise<void> {
    const wire = await this.#deps.renew();
    if (!wire) throw new BatonError('ERR_UNAVAILABLE', 'the authority returned no SVID');
    const next = acceptSvid(wire, this.#deps.spiffeId, this.#deps.privateKey, this.#deps.clock.now());
    if (this.#stopped) return;
    this.#receivedAt = this.#deps.clock.now();
    this.source.update(next);
    this.#deps.onRenewed(next.svid);
  }

  async #run(): Promise<void> {
    if (this.#stopped) return;
    try {
      await this.renewNow();
      this.schedule();
    } catch (err) {
      if (this.#stopped) return;
      const error = isBatonError(err) ? err : new BatonError('ERR_UNAVAILABLE', 'SVID renewal failed');
      const now = this.#deps.clock.now();
      if (!TERMINAL.has(error.code) && now < this.svid.notAfter) {
        const backoff = Math.min(this.#deps.retryMaxDelayMs, this.#deps.retryInitialDelayMs * 2 ** Math.min(this.#attempt, 30));
        const retryAt = Math.min(now + Math.ceil(backoff / 2) + randomInt(Math.floor(backoff / 2) + 1), this.svid.notAfter - 1);
        if (retryAt > now) {
          this.#attempt++;
          this.#deps.onFailure(error, retryAt);
          this.#timer.set(() => void this.#run(), retryAt - now);
          return;
        }
      }
      this.#deps.onFailure(error, undefined);
    }
  }
}
