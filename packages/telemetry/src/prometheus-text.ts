import type { Attributes } from '@opentelemetry/api';
import { DataPointType } from '@opentelemetry/sdk-metrics';
import type { Histogram, MetricData, ResourceMetrics } from '@opentelemetry/sdk-metrics';

/** Content type of the Prometheus text exposition format this module writes. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

const UNIT_SUFFIX: Record<string, string> = {
  s: 'seconds',
  ms: 'milliseconds',
  us: 'microseconds',
  ns: 'nanoseconds',
  By: 'bytes',
  '1': 'ratio',
};

function sanitizeName(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_:]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

function sanitizeLabel(name: string): string {
  const s = name.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/** `baton.issuance.duration` + unit `s` → `baton_issuance_duration_seconds`. */
export function prometheusName(name: string, unit: string, counter: boolean): string {
  let out = sanitizeName(name);
  // `{event}`-style units are annotations, not units.
  const suffix = unit && !unit.startsWith('{') ? (UNIT_SUFFIX[unit] ?? sanitizeName(unit)) : '';
  if (suffix && !out.endsWith(`_${suffix}`)) out += `_${suffix}`;
  if (counter && !out.endsWith('_total')) out += '_total';
  return out;
}

function escapeLabelValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function escapeHelp(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

function labelText(attributes: Attributes, extra?: [string, string]): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(attributes)) {
    if (v === undefined || v === null) continue;
    const text = typeof v === 'string' ? v : Array.isArray(v) ? JSON.stringify(v) : String(v);
    parts.push(`${sanitizeLabel(k)}="${escapeLabelValue(text)}"`);
  }
  if (extra) parts.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

interface Family {
  readonly type: 'counter' | 'gauge' | 'histogram';
  readonly help: string;
  readonly lines: string[];
}

function addMetric(families: Map<string, Family>, metric: MetricData): void {
  const { descriptor } = metric;
  let type: Family['type'];
  if (metric.dataPointType === DataPointType.HISTOGRAM) type = 'histogram';
  else if (metric.dataPointType === DataPointType.SUM && metric.isMonotonic) type = 'counter';
  else if (metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.GAUGE) type = 'gauge';
  else return; // exponential histograms are not used by Baton
  const name = prometheusName(descriptor.name, descriptor.unit, type === 'counter');
  let family = families.get(name);
  if (!family) {
    family = { type, help: descriptor.description, lines: [] };
    families.set(name, family);
  } else if (family.type !== type) {
    return; // two instruments fighting over one name: keep the first
  }
  if (metric.dataPointType === DataPointType.HISTOGRAM) {
    for (const dp of metric.dataPoints) {
      const h: Histogram = dp.value;
      let cumulative = 0;
      h.buckets.boundaries.forEach((le, i) => {
        cumulative += h.buckets.counts[i] ?? 0;
        family.lines.push(`${name}_bucket${labelText(dp.attributes, ['le', formatValue(le)])} ${cumulative}`);
      });
      family.lines.push(`${name}_bucket${labelText(dp.attributes, ['le', '+Inf'])} ${h.count}`);
      family.lines.push(`${name}_sum${labelText(dp.attributes)} ${formatValue(h.sum ?? 0)}`);
      family.lines.push(`${name}_count${labelText(dp.attributes)} ${h.count}`);
    }
  } else if (metric.dataPointType === DataPointType.SUM || metric.dataPointType === DataPointType.GAUGE) {
    for (const dp of metric.dataPoints) {
      family.lines.push(`${name}${labelText(dp.attributes)} ${formatValue(dp.value)}`);
    }
  }
}

/**
 * Render collected metrics in the Prometheus text exposition format 0.0.4: one family per
 * name (`# HELP`, `# TYPE`, samples), counters with `_total`, histograms as cumulative
 * `_bucket{le=...}` plus `_sum` and `_count`, the unit as a name suffix (`_seconds`).
 * Cumulative temporality is expected (the default of a pull reader).
 */
export function formatPrometheus(resourceMetrics: ResourceMetrics): string {
  const families = new Map<string, Family>();
  for (const scope of resourceMetrics.scopeMetrics) for (const m of scope.metrics) addMetric(families, m);
  let out = '';
  for (const [name, f] of families) {
    if (f.help) out += `# HELP ${name} ${escapeHelp(f.help)}\n`;
    out += `# TYPE ${name} ${f.type}\n`;
    for (const l of f.lines) out += `${l}\n`;
  }
  return out;
}
