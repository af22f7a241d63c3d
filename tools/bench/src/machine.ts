/** What the figures were measured on: they are only comparable as ratios across machines. */
import fs from 'node:fs';
import os from 'node:os';

/** The machine a run used. */
export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly platform: string;
  /** One line: `2 × AMD EPYC, Node v20.x, linux x64`. */
  readonly summary: string;
}

function cpuModel(): string {
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('model name'));
    if (line) return line.slice(line.indexOf(':') + 1).trim();
  } catch {
    // not Linux: fall back to what Node reports
  }
  return os.cpus()[0]?.model.trim() ?? 'unknown CPU';
}

/** Describes this machine (`nproc`, CPU model from /proc/cpuinfo, Node version). */
export function describeMachine(): Machine {
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const model = cpuModel();
  const platform = `${os.platform()} ${os.arch()}`;
  return { cpus, cpuModel: model, node: process.version, platform, summary: `${cpus} × ${model} (nproc ${cpus}), Node ${process.version}, ${platform}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM` };
}
