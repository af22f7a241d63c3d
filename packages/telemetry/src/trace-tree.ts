import type { SpanRecord } from './span-record.js';

function fmtMs(ms: number): string {
  return `${Math.max(0, ms).toFixed(1)} ms`;
}

function minStart(spans: readonly SpanRecord[]): number {
  let m = Infinity;
  for (const s of spans) if (s.startMs < m) m = s.startMs;
  return m;
}

function maxEnd(spans: readonly SpanRecord[]): number {
  let m = -Infinity;
  for (const s of spans) if (s.endMs > m) m = s.endMs;
  return m;
}

function byStart(a: SpanRecord, b: SpanRecord): number {
  return a.startMs - b.startMs || a.name.localeCompare(b.name);
}

function line(span: SpanRecord, depth: number): string {
  const status = span.status.code === 'ERROR' ? '  ERROR' : '';
  const code = span.attributes['baton.error.code'];
  const codeText = typeof code === 'string' ? ` ${code}` : '';
  return `${'  '.repeat(depth + 1)}${span.name}  ${span.kind}  [${span.service}]  ${fmtMs(span.endMs - span.startMs)}${status}${codeText}`;
}

function renderTrace(traceId: string, spans: SpanRecord[]): string[] {
  const byId = new Map<string, SpanRecord>();
  for (const s of spans) if (!byId.has(s.spanId)) byId.set(s.spanId, s);
  const children = new Map<string, SpanRecord[]>();
  const roots: SpanRecord[] = [];
  for (const s of byId.values()) {
    const parent = s.parentSpanId;
    if (parent && byId.has(parent) && parent !== s.spanId) {
      const list = children.get(parent) ?? [];
      list.push(s);
      children.set(parent, list);
    } else {
      roots.push(s);
    }
  }
  const start = minStart(spans);
  const end = maxEnd(spans);
  const services = new Set(spans.map((s) => s.service));
  const out = [`trace ${traceId}  (${byId.size} spans, ${services.size} services, ${fmtMs(end - start)})`];
  const seen = new Set<string>();
  // Iterative walk: span files are untrusted input and may be deep or cyclic.
  const walk = (root: SpanRecord): void => {
    const stack: Array<[SpanRecord, number]> = [[root, 0]];
    while (stack.length > 0) {
      const [span, depth] = stack.pop()!;
      if (seen.has(span.spanId)) continue;
      seen.add(span.spanId);
      out.push(line(span, depth));
      const kids = (children.get(span.spanId) ?? []).slice().sort(byStart);
      for (let i = kids.length - 1; i >= 0; i--) stack.push([kids[i]!, depth + 1]);
    }
  };
  for (const r of roots.sort(byStart)) walk(r);
  // Spans caught in a parent cycle are unreachable from any root: show them flat.
  for (const s of [...byId.values()].sort(byStart)) if (!seen.has(s.spanId)) walk(s);
  return out;
}

/**
 * Render spans as an indented tree per trace: a header line per trace
 * (`trace <id>  (<n> spans, <m> services, <duration>)`), then one line per span
 * indented two spaces per level below its parent, giving name, kind, `[service]`,
 * duration, and `ERROR <code>` for failed spans. Traces are ordered by start time,
 * children by start time. Spans whose parent is not in `spans` are shown as roots.
 *
 * @example
 * ```ts
 * console.log(renderTraceTree(readSpanFile('spans.jsonl')));
 * ```
 */
export function renderTraceTree(spans: readonly SpanRecord[]): string {
  const traces = new Map<string, SpanRecord[]>();
  for (const s of spans) {
    const list = traces.get(s.traceId) ?? [];
    list.push(s);
    traces.set(s.traceId, list);
  }
  const ordered = [...traces.entries()].sort((a, b) => minStart(a[1]) - minStart(b[1]));
  const out: string[] = [];
  for (const [traceId, list] of ordered) out.push(...renderTrace(traceId, list));
  return out.length > 0 ? `${out.join('\n')}\n` : '';
}
