import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { auditHmacKey } from './audit-wiring.js';
import { resolveConfig } from './config.js';
import { loadOrCreateKeyFile, loadOrCreateSecretFile, writeFileOnce } from './key-files.js';
import { tempDir } from './testing/fixtures.js';

const mode = (p: string): number => fs.statSync(p).mode & 0o777;

describe('secret files written whole (temp file, fsync, link)', () => {
  const dirs: { rm(): void }[] = [];
  const fresh = () => {
    const d = tempDir('keys');
    dirs.push(d);
    return path.join(d.dir, 'keys');
  };
  afterEach(() => {
    for (const d of dirs.splice(0)) d.rm();
  });

  it('creates the audit HMAC key once, 0600 in a 0700 directory, and keeps it across restarts', () => {
    const d = tempDir('hmac');
    dirs.push(d);
    const config = resolveConfig({ dataDir: d.dir }, d.dir, {});
    const first = auditHmacKey(config);
    const file = path.join(d.dir, 'keys', 'audit-hmac.key');
    expect(first).toHaveLength(32);
    expect(mode(file)).toBe(0o600);
    expect(mode(path.dirname(file))).toBe(0o700);
    expect(auditHmacKey(config).equals(first)).toBe(true);
    expect(fs.readdirSync(path.dirname(file))).toEqual(['audit-hmac.key']); // no temp file left behind
  });

  it('ignores a partial temp file a crashed writer left behind', () => {
    const dir = fresh();
    const file = path.join(dir, 'audit-hmac.key');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    // A crash between create and fsync: a truncated temp file (another pid), no key.
    fs.writeFileSync(`${file}.999999.tmp`, 'AAAA', { mode: 0o600 });
    // And one with this very pid (pid reuse), also partial and too open.
    fs.writeFileSync(`${file}.${process.pid}.tmp`, 'BB', { mode: 0o644 });
    const key = loadOrCreateSecretFile(file);
    expect(key).toHaveLength(32);
    expect(mode(file)).toBe(0o600);
    expect(loadOrCreateSecretFile(file).equals(key)).toBe(true);
    expect(fs.existsSync(`${file}.${process.pid}.tmp`)).toBe(false);
  });

  it('never overwrites an existing key (EEXIST: the first writer wins)', () => {
    const dir = fresh();
    const file = path.join(dir, 'k');
    writeFileOnce(file, 'first\n');
    expect(() => writeFileOnce(file, 'second\n')).toThrow(expect.objectContaining({ code: 'EEXIST' }));
    expect(fs.readFileSync(file, 'utf8')).toBe('first\n');
    expect(fs.readdirSync(dir)).toEqual(['k']);
  });

  it('refuses a damaged key instead of replacing it: empty, truncated or not base64url', () => {
    const dir = fresh();
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const [name, content] of [
      ['empty', ''],
      ['short', Buffer.alloc(16).toString('base64url')],
      ['junk', '!'.repeat(43)],
    ] as const) {
      const file = path.join(dir, name);
      fs.writeFileSync(file, content, { mode: 0o600 });
      expect(() => loadOrCreateSecretFile(file)).toThrow(expect.objectContaining({ code: 'ERR_KEY_INVALID' }));
      expect(fs.readFileSync(file, 'utf8')).toBe(content);
    }
  });

  it('refuses a key group or others can read', () => {
    const dir = fresh();
    const file = path.join(dir, 'k');
    loadOrCreateSecretFile(file);
    fs.chmodSync(file, 0o640);
    expect(() => loadOrCreateSecretFile(file)).toThrow(expect.objectContaining({ code: 'ERR_KEY_INVALID' }));
  });

  it('key pair files use the same path: 0600, read back identical', () => {
    const dir = fresh();
    const file = path.join(dir, 'service.jwk');
    const kp = loadOrCreateKeyFile(file);
    expect(mode(file)).toBe(0o600);
    expect(loadOrCreateKeyFile(file).thumbprint).toBe(kp.thumbprint);
  });
});
