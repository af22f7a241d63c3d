/**
 * `npm run demo -- exfiltration`: what an attacker gets from dumping an agent's
 * environment and memory, with a static API key and with Baton, side by side.
 */
import type { DemoOptions } from './cli-options.js';
import { exfiltrationSteps } from './exfiltration-steps.js';
import type { Loot } from './exfiltration-steps.js';
import type { Narrator, StepRecord } from './narrator.js';
import { runScenario } from './scenario-frame.js';
import { runStep } from './step-runner.js';

function kinds(found: Loot['legacy']): string {
  return found.length === 0 ? 'none' : `${found.length}: ${found.map((f) => f.kind).join(', ')}`;
}

function comparison(loot: Loot): string[] {
  const rows: [string, string, string][] = [
    ['', 'static API key', 'Baton'],
    ['credentials in the dump', kinds(loot.legacy), kinds(loot.baton)],
    ['usable by another process', loot.legacyReplay === 'allow' ? 'yes: approved $50,000' : 'no', loot.batonUsable > 0 ? 'YES' : 'none'],
    ['bound to', 'nothing (bearer)', "the agent's in-memory key (DPoP)"],
    ['authority', 'everything the API allows', 'this task only, amount ≤ 5000'],
    ['lifetime', 'until someone rotates it', '≤ 300 s, dead at release'],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  return rows.map(([a, b, c]) => `  ${a.padEnd(w0)}  ${b.padEnd(w1)}  ${c}`);
}

/** Runs the exfiltration comparison; resolves true when every outcome was as expected. */
export function runExfiltration(options: DemoOptions, narrator: Narrator): Promise<boolean> {
  return runScenario(options, narrator, 'exfiltration (a framework bug dumps an agent\'s environment and memory)', async (world) => {
    narrator.section('The dump: process.env, /proc/<pid>/environ and a V8 heap snapshot, handed to an attacker');
    const loot: Loot = { legacy: [], baton: [], batonUsable: 0 };
    const records: StepRecord[] = [];
    for (const spec of exfiltrationSteps(world, loot)) records.push(await runStep(narrator, spec));
    narrator.section('What the attacker got');
    for (const line of comparison(loot)) narrator.say(line);
    return { records };
  });
}
