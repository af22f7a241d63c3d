// Some tests run the built package (child processes, worker threads): rebuild dist/
// when it is older than the sources.
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package directory. */
export const PKG_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export function ensureBuilt(): void {
  const src = join(PKG_DIR, 'src');
  const newest = Math.max(
    0,
    ...readdirSync(src)
      .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
      .map((f) => statSync(join(src, f)).mtimeMs),
  );
  let built = 0;
  try {
    built = Math.min(statSync(join(PKG_DIR, 'dist', 'index.js')).mtimeMs, statSync(join(PKG_DIR, 'dist', 'verify-worker.js')).mtimeMs);
  } catch {
    // not built yet
  }
  if (built < newest) execFileSync(join(PKG_DIR, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.build.json'], { cwd: PKG_DIR, timeout: 120_000 });
}
