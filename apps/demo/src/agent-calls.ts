/**
 * The driver asking a child process to do something, inside a span of the current step's
 * trace, with that span's `traceparent` in the command so the child continues the trace.
 */
import type { ChildHandle } from './child-process.js';
import type { Verdict } from './narrator.js';
import { currentTraceparent, inSpan } from './process-tracing.js';

/** What a call-like command answers. */
export interface CallReply {
  readonly outcome: Verdict;
  readonly code: string | null;
  readonly [key: string]: unknown;
}

/** Sends `cmd` to `child` in a span `driver → <child>: <cmd>`. */
export function ask<T = CallReply>(child: ChildHandle, cmd: string, payload: Record<string, unknown> = {}): Promise<T> {
  return inSpan(`driver → ${child.name}: ${cmd}`, () => child.request<T>(cmd, { ...payload, traceparent: currentTraceparent() }));
}

/** `$4,000`. */
export const usd = (n: number): string => `$${n.toLocaleString('en-US')}`;
