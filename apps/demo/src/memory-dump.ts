/**
 * The framework bug of the exfiltration demo, run inside an agent process: everything a
 * careless tool could hand out — the environment (`process.env`), the environment block
 * the kernel keeps for the process (`/proc/self/environ`, unchanged by deleting
 * variables), and the reachable JavaScript heap (a V8 heap snapshot) — searched for
 * credentials.
 */
import { readFileSync } from 'node:fs';
import { getHeapSnapshot } from 'node:v8';

/** Where a dump looked. */
export type DumpSource = 'env' | 'proc-environ' | 'heap';

/** A credential found by the dump (the attacker gets the value as found). */
export interface Found {
  readonly kind: 'api-key' | 'launch-token' | 'access-token' | 'private-key';
  /** Every place the same value turned up. */
  readonly where: DumpSource[];
  readonly value: string;
  /**
   * False for an access token cut short: V8 heap snapshots keep only the first 1024
   * characters of a string. A core dump would hold all of it, so the demo then assumes
   * the attacker has the whole token.
   */
  readonly complete: boolean;
}

const PATTERNS: readonly (readonly [Found['kind'], RegExp])[] = [
  ['api-key', /sk_live_[A-Za-z0-9_-]{20,}/g],
  ['launch-token', /blt_[A-Za-z0-9_-]{43}/g],
  ['access-token', /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}(?:\.[A-Za-z0-9_-]{40,})?/g],
  // A private key in any serialized form: a private JWK member or a PEM block.
  ['private-key', /"d"\s*:\s*"[A-Za-z0-9_-]{43}"|-----BEGIN [A-Z ]*PRIVATE KEY-----/g],
];

function scan(text: string, where: DumpSource, into: Map<string, Found>): void {
  for (const [kind, re] of PATTERNS) {
    for (const m of text.matchAll(re)) {
      const seen = into.get(m[0]);
      if (seen) {
        if (!seen.where.includes(where)) seen.where.push(where);
        continue;
      }
      into.set(m[0], { kind, where: [where], value: m[0], complete: kind !== 'access-token' || m[0].split('.').length === 3 });
    }
  }
}

async function heapText(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of getHeapSnapshot()) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** Dumps this process and returns every credential found, plus what was looked at. */
export async function dumpThisProcess(options: { heap: boolean }): Promise<{ found: Found[]; envNames: string[]; heapBytes: number }> {
  const found = new Map<string, Found>();
  // The heap first: what this dump itself reads (env text, found values) must not be
  // counted as something the agent kept in memory.
  let heapBytes = 0;
  if (options.heap) {
    const heap = await heapText();
    heapBytes = heap.length;
    scan(heap, 'heap', found);
  }
  const envText = Object.entries(process.env)
    .map(([k, v]) => `${k}=${v ?? ''}`)
    .join('\n');
  scan(envText, 'env', found);
  try {
    scan(readFileSync('/proc/self/environ', 'utf8').replaceAll('\0', '\n'), 'proc-environ', found);
  } catch {
    // Not Linux: no kernel copy to read.
  }
  return { found: [...found.values()], envNames: Object.keys(process.env).sort(), heapBytes };
}
