/**
 * What `npm run soak` and `npm run crash` share: a scratch directory, the authority as a
 * real process with its setup, the world of clients driving it, cleanup whatever
 * happens, and the entry point's exit code (0 passed, 1 a verdict failed, 2 crashed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnAuthority, writeAuthoritySetup, type AuthorityHandle, type AuthoritySetup, type SpawnOptions } from './soak-authority.js';
import { openSoakWorld, type SoakWorld } from './soak-world.js';

/** One run's parts. */
export interface AuthorityRun {
  readonly dir: string;
  readonly setup: AuthoritySetup;
  readonly authority: AuthorityHandle & { stderr(): string };
  readonly world: SoakWorld;
}

/** Options of {@link withAuthorityRun}. */
export interface AuthorityRunOptions {
  /** Prefix of the scratch directory and of log lines, e.g. `soak`. */
  readonly name: string;
  /** Keep the scratch directory (for diagnosis). */
  readonly keep?: boolean;
  /** How to spawn the authority, given the scratch directory. */
  readonly spawn?: (dir: string) => SpawnOptions;
  readonly log: (message: string) => void;
}

/** Runs `fn` against a freshly set-up authority process; stops and removes everything afterwards. */
export async function withAuthorityRun<T>(options: AuthorityRunOptions, fn: (run: AuthorityRun) => Promise<T>): Promise<T> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `baton-${options.name}-`));
  const setup = await writeAuthoritySetup(dir);
  const authority = await spawnAuthority(setup, options.spawn?.(dir) ?? {});
  options.log(`authority pid ${authority.pid} at ${authority.address}, data in ${setup.dataDir}`);
  let world: SoakWorld | undefined;
  try {
    world = await openSoakWorld({ authority: authority.address, operatorKey: setup.operatorKey, resourceKey: setup.resourceKey, workDir: dir });
    return await fn({ dir, setup, authority, world });
  } finally {
    await world?.close().catch(() => undefined);
    await authority.stop().catch(() => undefined);
    if (options.keep) options.log(`kept ${dir}`);
    else fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs an entry point and exits with its code; a crash prints its stack and exits 2. */
export function runMain(name: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`[${name}] failed: ${(err as Error)?.stack ?? String(err)}\n`);
      process.exit(2);
    },
  );
}
