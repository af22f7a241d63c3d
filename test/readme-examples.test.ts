/**
 * README examples are code that runs. Each package keeps its main example in
 * `packages/<pkg>/src/readme-example.test.ts` and the root README its examples in
 * `test/examples/*.test.ts`, between `// #region readme` and `// #endregion`; those files
 * run the example and assert what it produces. This suite checks that each README holds
 * every such region verbatim as a ```ts block, so the two cannot drift apart.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Packages whose main README example must be a test. */
const REQUIRED = ['core', 'guard', 'delegation', 'audit', 'agent'];

const OPEN = '// #region readme';
const CLOSE = '// #endregion';

/** The `// #region readme` … `// #endregion` regions of a source file, dedented. */
function readmeRegions(source: string): string[] {
  const regions: string[] = [];
  let current: string[] | undefined;
  for (const line of source.split('\n')) {
    const marker = line.trim();
    if (marker === OPEN) {
      if (current) throw new Error('nested readme region');
      current = [];
    } else if (marker === CLOSE && current) {
      regions.push(dedent(current).join('\n'));
      current = undefined;
    } else if (current) {
      current.push(line);
    }
  }
  if (current) throw new Error('readme region without // #endregion');
  return regions;
}

function dedent(lines: string[]): string[] {
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)![0].length);
  const cut = indents.length === 0 ? 0 : Math.min(...indents);
  return lines.map((l) => l.slice(cut));
}

/** The contents of every ```ts fenced block of a markdown text. */
function tsBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```ts\n([\s\S]*?)\n```$/gm)].map((m) => m[1]!);
}

interface Example {
  readonly name: string;
  readonly readme: string;
  readonly source: string;
}

function examples(): Example[] {
  const out: Example[] = [];
  for (const pkg of fs.readdirSync(path.join(root, 'packages')).sort()) {
    const source = path.join('packages', pkg, 'src', 'readme-example.test.ts');
    if (fs.existsSync(path.join(root, source))) out.push({ name: `@baton/${pkg}`, readme: path.join('packages', pkg, 'README.md'), source });
  }
  for (const file of fs.readdirSync(path.join(root, 'test', 'examples')).sort()) {
    if (file.endsWith('.test.ts')) out.push({ name: `README.md (${file})`, readme: 'README.md', source: path.join('test', 'examples', file) });
  }
  return out;
}

const read = (file: string): string => fs.readFileSync(path.join(root, file), 'utf8');

describe('README examples are the code the tests run', () => {
  it.each(examples())('$name: $readme holds every region of $source verbatim', ({ readme, source }) => {
    const regions = readmeRegions(read(source));
    expect(regions.length, `${source} has no // #region readme`).toBeGreaterThan(0);
    const blocks = tsBlocks(read(readme));
    for (const region of regions) expect(blocks, `${readme} must contain this region of ${source} as a \`\`\`ts block`).toContain(region);
  });

  it('the main packages and the root README each have a tested example', () => {
    const names = examples().map((e) => e.name);
    for (const pkg of REQUIRED) expect(names).toContain(`@baton/${pkg}`);
    expect(names.some((n) => n.startsWith('README.md'))).toBe(true);
  });

  it.each(fs.readdirSync(path.join(root, 'packages')).sort())('packages/%s has a README with at least one example', (pkg) => {
    const readme = path.join(root, 'packages', pkg, 'README.md');
    expect(fs.existsSync(readme), `packages/${pkg}/README.md is missing`).toBe(true);
    expect(tsBlocks(fs.readFileSync(readme, 'utf8')).length).toBeGreaterThan(0);
  });
});

describe('the region and block parsers', () => {
  it('extracts and dedents regions, and refuses unbalanced markers', () => {
    const src = ['a', '  // #region readme', '  const x = 1;', '', '    x;', '  // #endregion', 'b', '// #region readme', 'y', '// #endregion'].join('\n');
    expect(readmeRegions(src)).toEqual(['const x = 1;\n\n  x;', 'y']);
    expect(() => readmeRegions('// #region readme\nx')).toThrow(/without/);
    expect(() => readmeRegions('// #region readme\n// #region readme\n// #endregion')).toThrow(/nested/);
  });

  it('finds only whole ts blocks', () => {
    const md = ['text', '```ts', 'one', 'two', '```', '```sh', 'three', '```', '```ts', 'four', '```'].join('\n');
    expect(tsBlocks(md)).toEqual(['one\ntwo', 'four']);
    expect(tsBlocks(md)).not.toContain('one');
  });
});
