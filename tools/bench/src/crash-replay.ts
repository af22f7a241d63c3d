/**
 * After a restart: single-use material used before the kill must not work again.
 *
 * - Each launch token of an acknowledged registration, presented with a fresh key and a
 *   fresh challenge (so only the launch token can be the reason): ERR_LAUNCH_TOKEN_REPLAYED.
 * - Each nonce of an acknowledged hand registration, signed with an unused launch token:
 *   ERR_NONCE_REPLAYED (ERR_NONCE_EXPIRED / ERR_NONCE_INVALID only once the challenge is
 *   past its 30 s life and may have been pruned). That launch token must then still
 *   register: the refused attempts consumed nothing.
 * - Each launch token whose registration the kill cut short (outcome unknown): it may
 *   work once (if the registration never committed), never twice.
 */
import { generateKeyPair } from '@baton/core';
import { dpopMetadata } from '@baton/guard';
import { IssuerService } from '@baton/proto/baton/issuer/v1/issuer_pb.js';
import { errorCode, type ReplayBook } from './soak-ledger.js';
import type { SoakWorld } from './soak-world.js';

/** Challenge lifetime at the authority (IDENTITY_DEFAULTS.challengeTtlSeconds). */
const CHALLENGE_TTL_MS = 30_000;

/** Outcomes of replaying one kind of material. */
export interface ReplayTally {
  readonly tried: number;
  /** Refusals by code. */
  readonly refused: Record<string, number>;
  /** Times it worked again: must be 0. */
  readonly worked: number;
}

/** What {@link replayAfterRestart} found. */
export interface ReplayOutcome {
  readonly launchTokens: ReplayTally;
  readonly nonces: ReplayTally;
  /** Nonces old enough to have expired (a refusal other than ERR_NONCE_REPLAYED is then fine). */
  readonly noncesPastTtl: number;
  /** Unknown-outcome launch tokens: how many worked on the first try after the restart, and on the second (must be 0). */
  readonly unknown: { readonly tried: number; readonly workedOnce: number; readonly workedTwice: number; readonly refused: Record<string, number> };
  /** The launch token used for the nonce replays registered afterwards (undefined: no nonce to replay). */
  readonly spareStillWorked: boolean | undefined;
  /** Failures of the replay machinery itself (minting, releasing). */
  readonly errors: readonly string[];
}

type Attempt = { ok: true; release: () => Promise<unknown> } | { ok: false; code: string };

/** Replays the round's book against the restarted authority. */
export async function replayAfterRestart(world: SoakWorld, book: ReplayBook, round: number): Promise<ReplayOutcome> {
  const errors: string[] = [];
  const attempt = async (launchToken: string, key = generateKeyPair(), nonce?: Uint8Array): Promise<Attempt> => {
    try {
      const res = await world.registerWith(launchToken, key, nonce ?? (await world.challenge()));
      // Let the accidental agent go again, so it does not linger.
      return { ok: true, release: () => world.issuer.release({ reason: 'replay check' }, { metadata: dpopMetadata(key, res.accessToken, IssuerService.method.release) }) };
    } catch (err) {
      return { ok: false, code: errorCode(err) };
    }
  };
  const count = (m: Record<string, number>, code: string): void => {
    m[code] = (m[code] ?? 0) + 1;
  };
  const settle = async (a: Attempt): Promise<void> => {
    if (a.ok) await a.release().catch((e: unknown) => errors.push(`release after replay: ${errorCode(e)}`));
  };

  const lt = { tried: 0, refused: {} as Record<string, number>, worked: 0 };
  for (const token of book.acknowledged) {
    lt.tried++;
    const a = await attempt(token);
    if (a.ok) lt.worked++;
    else count(lt.refused, a.code);
    await settle(a);
  }

  const nonces = { tried: 0, refused: {} as Record<string, number>, worked: 0 };
  let noncesPastTtl = 0;
  let spareStillWorked: boolean | undefined;
  if (book.raw.length > 0) {
    let spare: string | undefined;
    try {
      spare = await world.mint(`crash-r${round}-spare`);
    } catch (err) {
      errors.push(`mint spare: ${errorCode(err)}`);
    }
    if (spare !== undefined) {
      for (const used of book.raw) {
        nonces.tried++;
        if (Date.now() - used.nonceAt >= CHALLENGE_TTL_MS) noncesPastTtl++;
        const a = await attempt(spare, used.key, used.nonce);
        if (a.ok) nonces.worked++;
        else count(nonces.refused, a.code);
        await settle(a);
        if (a.ok) break; // the spare is spent; the violation is recorded
      }
      if (nonces.worked === 0) {
        const a = await attempt(spare);
        spareStillWorked = a.ok;
        await settle(a);
      }
    }
  }

  const unknown = { tried: 0, workedOnce: 0, workedTwice: 0, refused: {} as Record<string, number> };
  for (const token of book.unknown) {
    unknown.tried++;
    const first = await attempt(token);
    if (first.ok) unknown.workedOnce++;
    else count(unknown.refused, first.code);
    await settle(first);
    // Accepted now after an acceptance (or a refusal) just before: it worked twice.
    const second = await attempt(token);
    if (second.ok) unknown.workedTwice++;
    await settle(second);
  }
  return { launchTokens: lt, nonces, noncesPastTtl, unknown, spareStillWorked, errors };
}

/** The violations in an outcome, as text (empty: none). */
export function replayViolations(o: ReplayOutcome): string[] {
  const v: string[] = [];
  if (o.launchTokens.worked > 0) v.push(`${o.launchTokens.worked} launch token(s) worked twice`);
  const otherLt = Object.entries(o.launchTokens.refused).filter(([c]) => c !== 'ERR_LAUNCH_TOKEN_REPLAYED');
  if (otherLt.length > 0) v.push(`launch-token replays refused with ${otherLt.map(([c, n]) => `${c}×${n}`).join(', ')} instead of ERR_LAUNCH_TOKEN_REPLAYED`);
  if (o.nonces.worked > 0) v.push(`${o.nonces.worked} nonce(s) worked twice`);
  const otherNonce = Object.entries(o.nonces.refused).filter(([c]) => c !== 'ERR_NONCE_REPLAYED');
  const otherNonceCount = otherNonce.reduce((n, [, k]) => n + k, 0);
  if (otherNonceCount > o.noncesPastTtl) v.push(`nonce replays refused with ${otherNonce.map(([c, n]) => `${c}×${n}`).join(', ')} instead of ERR_NONCE_REPLAYED`);
  if (o.unknown.workedTwice > 0) v.push(`${o.unknown.workedTwice} interrupted launch token(s) worked twice`);
  if (o.spareStillWorked === false) v.push('a refused nonce replay consumed the launch token it was signed with');
  return v;
}
