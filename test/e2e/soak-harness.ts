/**
 * Shared by the short soak and crash tests: the authority as a real process started with
 * the suite's own process helpers (kill -9 and restart on the same config and port), and
 * the world the tools/bench load runs in (the same code `npm run soak` / `npm run crash`
 * run, from its build).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { scripts } from '../support/baton-system.js';
import { spawnReady, type TestProcess } from '../support/processes.js';
import { writeAuthoritySetup, type AuthorityHandle, type AuthoritySetup } from '../../tools/bench/dist/soak-authority.js';
import { openSoakWorld, type SoakWorld } from '../../tools/bench/dist/soak-world.js';

/** A started authority and world in a temp dir. */
export interface SoakFixture {
  readonly dir: string;
  readonly setup: AuthoritySetup;
  readonly authority: AuthorityHandle;
  readonly world: SoakWorld;
  cleanup(): Promise<void>;
}

function start(setup: AuthoritySetup): Promise<TestProcess> {
  return spawnReady({ name: 'authority', script: scripts.authority, args: ['--config', setup.configFile], readyTimeoutMs: 30_000 });
}

/** Writes the config, starts the authority and opens the world (workflow, orchestrator, guarded resource). */
export async function startSoakFixture(): Promise<SoakFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-e2e-soak-'));
  const setup = await writeAuthoritySetup(dir);
  let proc = await start(setup);
  const authority: AuthorityHandle = {
    address: setup.address,
    dataDir: setup.dataDir,
    get pid() {
      return proc.pid;
    },
    async kill9() {
      try {
        process.kill(proc.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      await proc.exit;
    },
    async restart() {
      proc = await start(setup);
    },
    stop: () => proc.stop(10_000),
  };
  const world = await openSoakWorld({ authority: setup.address, operatorKey: setup.operatorKey, resourceKey: setup.resourceKey, workDir: dir });
  return {
    dir,
    setup,
    authority,
    world,
    async cleanup() {
      await world.close();
      await authority.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
