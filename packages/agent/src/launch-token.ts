/**
 * Where an agent's one-time launch token comes from: an explicit argument, or the
 * `BATON_LAUNCH_TOKEN` environment variable set by whatever spawned the agent. The
 * variable is removed as soon as it is read, so a later environment dump (a crash
 * report, a child process, a debugging tool) does not show it.
 */

/** Name of the environment variable an orchestrator passes the launch token in. */
export const LAUNCH_TOKEN_ENV = 'BATON_LAUNCH_TOKEN';

/** Launch tokens are opaque to the agent; this only bounds what is sent. */
const MAX_LAUNCH_TOKEN_LENGTH = 1024;
const LAUNCH_TOKEN_CHARS = /^[\x21-\x7e]+$/;

/**
 * Takes the launch token: `explicit` when given, else `env[LAUNCH_TOKEN_ENV]`. The
 * variable is deleted from `env` in both cases (it must not outlive registration), so
 * calling this twice never yields the same token from the environment.
 *
 * Throws TypeError when there is no token or it is not a plausible token string: both are
 * deployment mistakes, not hostile input.
 */
export function takeLaunchToken(explicit: string | undefined, env: Record<string, string | undefined>): string {
  const fromEnv = Object.prototype.hasOwnProperty.call(env, LAUNCH_TOKEN_ENV) ? env[LAUNCH_TOKEN_ENV] : undefined;
  // Delete before validating, so even a malformed value does not linger.
  delete env[LAUNCH_TOKEN_ENV];
  const token = explicit ?? fromEnv;
  if (token === undefined || token === '') {
    throw new TypeError(`no launch token: pass options.launchToken or set ${LAUNCH_TOKEN_ENV}`);
  }
  if (typeof token !== 'string' || token.length > MAX_LAUNCH_TOKEN_LENGTH || !LAUNCH_TOKEN_CHARS.test(token)) {
    // Never echo the value: it is a credential.
    throw new TypeError('launch token must be 1..1024 printable ASCII characters without spaces');
  }
  return token;
}
