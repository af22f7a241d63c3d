/**
 * W3C trace context for handing the test's active span to a child process (its
 * `TRACEPARENT` environment variable or a command's `traceparent`).
 */
import { context, propagation } from '@opentelemetry/api';

/** The `traceparent` of the active span; throws when tracing is not set up (a test mistake). */
export function traceparentOfActiveSpan(): string {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  const tp = carrier['traceparent'];
  if (!tp) throw new TypeError('no active span to propagate (is tracing set up?)');
  return tp;
}
