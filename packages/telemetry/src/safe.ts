/**
 * Telemetry must never throw into the request path: every call into the OTel SDK from
 * request handling goes through {@link safely}, which swallows and counts failures.
 */

let swallowed = 0;

/** How many telemetry failures were swallowed in this process (for diagnostics and tests). */
export function telemetryErrorCount(): number {
  return swallowed;
}

/** Run `fn`; on any throw, count it and return `fallback` instead. */
export function safely<T>(fn: () => T, fallback: T): T {
  try {
    return fn();
  } catch {
    swallowed++;
    return fallback;
  }
}

/** Count a swallowed failure caught elsewhere. */
export function countTelemetryError(): void {
  swallowed++;
}
