/**
 * The sequencer's pure core, shared by both stores: given the chain head read inside the
 * append transaction and the ids already stored, number, chain and hash a batch, and
 * collect the subtree hashes to persist.
 */
import { sealEntry, ZERO_HASH, leafHashOf } from './entry-hash.js';
import type { AuditEntry, AuditEventFields } from './event.js';
import { MerkleFrontier, type TreeNode } from './merkle-frontier.js';
import type { AppendOutcome } from './store.js';
import { isStoredLevel } from './tree-reader.js';

/** The end of the chain: how many entries, the last hash, and the Merkle frontier. */
export interface ChainHead {
  readonly size: number;
  readonly lastHash: string;
  readonly frontier: MerkleFrontier;
}

/** The head of an empty log. */
export function emptyHead(): ChainHead {
  return { size: 0, lastHash: ZERO_HASH, frontier: new MerkleFrontier() };
}

/** What a store writes for one batch, and the head after it. */
export interface AppendPlan {
  readonly outcomes: AppendOutcome[];
  readonly entries: AuditEntry[];
  /** Completed perfect subtrees at stored levels. */
  readonly nodes: TreeNode[];
  readonly head: ChainHead;
}

/**
 * Plans a batch. `existing` maps already-stored event ids to their sequences. The given
 * head is not modified (its frontier is cloned), so a failed transaction leaves it valid.
 */
export function planAppend(
  head: ChainHead,
  events: readonly AuditEventFields[],
  existing: ReadonlyMap<string, number>,
  loggedAt: number,
): AppendPlan {
  const frontier = head.frontier.clone();
  const seen = new Map(existing);
  const outcomes: AppendOutcome[] = [];
  const entries: AuditEntry[] = [];
  const nodes: TreeNode[] = [];
  let size = head.size;
  let lastHash = head.lastHash;
  for (const ev of events) {
    const dup = seen.get(ev.eventId);
    if (dup !== undefined) {
      outcomes.push({ status: 'duplicate', sequence: dup });
      continue;
    }
    size++;
    const entry = sealEntry(ev, size, lastHash, loggedAt);
    entries.push(entry);
    seen.set(ev.eventId, size);
    outcomes.push({ status: 'accepted', sequence: size });
    lastHash = entry.eventHash;
    frontier.append(leafHashOf(entry.eventHash), (n) => {
      if (isStoredLevel(n.level)) nodes.push(n);
    });
  }
  return { outcomes, entries, nodes, head: { size, lastHash, frontier } };
}

/** Marker error: the cached head no longer matches the database; reload and retry. */
export class StaleHeadError extends Error {
  override readonly name = 'StaleHeadError';
}
