import { describe, expect, it } from 'vitest';
import { LAUNCH_TOKEN_ENV, takeLaunchToken } from './launch-token.js';

const TOKEN = 'lt_Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a throw');
}

describe('takeLaunchToken', () => {
  it('reads the token from the environment once and deletes the variable', () => {
    const env: Record<string, string | undefined> = { [LAUNCH_TOKEN_ENV]: TOKEN, OTHER: 'x' };
    expect(takeLaunchToken(undefined, env)).toBe(TOKEN);
    expect(LAUNCH_TOKEN_ENV in env).toBe(false);
    expect(env.OTHER).toBe('x');
    // A second read finds nothing: the variable was consumed.
    expect(thrown(() => takeLaunchToken(undefined, env))).toBeInstanceOf(TypeError);
  });

  it('prefers the explicit token and still deletes the variable', () => {
    const env: Record<string, string | undefined> = { [LAUNCH_TOKEN_ENV]: 'from-env' };
    expect(takeLaunchToken(TOKEN, env)).toBe(TOKEN);
    expect(LAUNCH_TOKEN_ENV in env).toBe(false);
  });

  it('works on process.env itself', () => {
    process.env[LAUNCH_TOKEN_ENV] = TOKEN;
    expect(takeLaunchToken(undefined, process.env)).toBe(TOKEN);
    expect(process.env[LAUNCH_TOKEN_ENV]).toBeUndefined();
    expect(Object.keys(process.env)).not.toContain(LAUNCH_TOKEN_ENV);
  });

  it.each([
    ['missing', undefined],
    ['empty', ''],
    ['with a space', 'abc def'],
    ['with a newline', 'abc\ndef'],
    ['non-ASCII', 'tökén'],
    ['too long', 'a'.repeat(1025)],
  ])('rejects a token that is %s, without echoing it, and removes it from the env', (_name, value) => {
    const env: Record<string, string | undefined> = {};
    if (value !== undefined) env[LAUNCH_TOKEN_ENV] = value;
    const err = thrown(() => takeLaunchToken(undefined, env));
    expect(err).toBeInstanceOf(TypeError);
    if (value) expect(err.message).not.toContain(value);
    expect(LAUNCH_TOKEN_ENV in env).toBe(false);
  });
});
