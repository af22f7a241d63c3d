import { describe, expect, it } from 'vitest';
import { parseDemoArgs } from './cli-options.js';

describe('parseDemoArgs', () => {
  it('defaults to the expense-approval scenario, human output, a random seed and no collector', () => {
    expect(parseDemoArgs([])).toEqual({ scenario: 'expense-approval', seed: undefined, json: false, otlp: undefined, help: false });
  });

  it('reads the scenario, --seed, --json and --otlp', () => {
    const o = parseDemoArgs(['exfiltration', '--seed', '42', '--json', '--otlp', 'http://localhost:4318']);
    expect(o.scenario).toBe('exfiltration');
    expect(o.seed).toBe(42);
    expect(o.json).toBe(true);
    expect(o.otlp?.href).toBe('http://localhost:4318/');
  });

  it.each([
    [['nonsense']],
    [['expense-approval', 'exfiltration']],
    [['--seed', '0']],
    [['--seed', '-3']],
    [['--seed', '1.5']],
    [['--seed', '2147483648']],
    [['--seed', '0x10']],
    [['--otlp', 'not a url']],
    [['--otlp', 'file:///etc/passwd']],
    [['--unknown']],
  ])('refuses %j with a TypeError', (argv) => {
    expect(() => parseDemoArgs(argv)).toThrow(TypeError);
  });
});
