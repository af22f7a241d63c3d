import fs from 'node:fs';
import path from 'node:path';
import { BatonError, importPublicJwk, jwkThumbprint, parseJsonStrict, type PublicJwk } from '@baton/core';
import { parseTlsConfig, type AuthorityTlsConfig } from './authority-tls.js';

/** The services an authority process can host. */
export const SERVICE_NAMES = ['identity', 'issuer', 'delegation', 'audit', 'anomaly'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

/** An operator allowed to manage workflows, revoke and read audit (by key, never a password). */
export interface OperatorEntry {
  readonly id: string;
  readonly jwk: PublicJwk;
}

/** Resolved authority configuration. */
export interface AuthorityConfig {
  /** SPIFFE trust domain. Default `baton.local`. */
  readonly trustDomain: string;
  /** Token `iss` and the authority's own audience. Default `spiffe://<trustDomain>/authority`. */
  readonly issuer: string;
  /** Where keys and the default SQLite file live. */
  readonly dataDir: string;
  /** `sqlite:<path>` (default `<dataDir>/baton.db`) or `postgres://…`. */
  readonly store: string;
  /** host:port for the gRPC listener. Default `127.0.0.1:7700`. */
  readonly listen: string;
  /** Services hosted by this process. Default: all that exist. */
  readonly services: readonly ServiceName[];
  /** Addresses of services hosted elsewhere. */
  readonly peers: Readonly<Partial<Record<ServiceName, string>>>;
  readonly operators: readonly OperatorEntry[];
  /**
   * Resource servers (by key) allowed to append their guards' decisions to the audit log
   * and to report them to the anomaly responder (about tokens for audience `id`).
   */
  readonly resources: readonly OperatorEntry[];
  /** host:port for Prometheus `/metrics`, or undefined for none. */
  readonly metricsListen: string | undefined;
  /** TLS of the gRPC listener (see authority-tls.ts). Absent: plaintext. */
  readonly tls?: AuthorityTlsConfig;
  /** Tracing exporter; `otlp` is chosen when OTEL_EXPORTER_OTLP_ENDPOINT is set. */
  readonly tracing: { readonly exporter: 'none' | 'console-tree' | 'file' | 'otlp'; readonly file?: string };
}

/** Defaults, each the safe choice. */
export const DEFAULT_CONFIG = Object.freeze({
  trustDomain: 'baton.local',
  listen: '127.0.0.1:7700',
  services: ['identity', 'issuer', 'delegation', 'audit', 'anomaly'] as readonly ServiceName[],
});

const HOSTPORT = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/;

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > 4096) throw new BatonError('ERR_INVALID_ARGUMENT', `config: ${what} must be a non-empty string`);
  return v;
}

/**
 * Reads the authority config file (JSON) and applies environment overrides
 * (`BATON_STORE`, `BATON_LISTEN`, `BATON_TRUST_DOMAIN`, `BATON_METRICS_LISTEN`,
 * `BATON_TRACE_FILE`). Relative paths are relative to the config file. Secrets never
 * live in the config or the environment: keys are files in `<dataDir>/keys`.
 */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): AuthorityConfig {
  const base = path.dirname(path.resolve(file));
  const raw = parseJsonStrict(fs.readFileSync(file, 'utf8'), { maxBytes: 1 << 20 }) as Record<string, unknown>;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new BatonError('ERR_INVALID_ARGUMENT', 'config: not an object');
  return resolveConfig(raw, base, env);
}

/** Validates a config object (as parsed from JSON) against `base` for relative paths. */
export function resolveConfig(raw: Record<string, unknown>, base: string, env: NodeJS.ProcessEnv = process.env): AuthorityConfig {
  const trustDomain = str(env.BATON_TRUST_DOMAIN ?? raw.trustDomain ?? DEFAULT_CONFIG.trustDomain, 'trustDomain');
  if (!/^[a-z0-9._-]{1,255}$/.test(trustDomain)) throw new BatonError('ERR_INVALID_ARGUMENT', 'config: trustDomain');
  const dataDir = path.resolve(base, str(raw.dataDir ?? '.', 'dataDir'));
  let store = str(env.BATON_STORE ?? raw.store ?? 'sqlite:baton.db', 'store');
  if (!/^postgres(ql)?:\/\//.test(store)) {
    const f = store.startsWith('sqlite:') ? store.slice(7) : store;
    store = `sqlite:${f === ':memory:' ? f : path.resolve(dataDir, f)}`;
  }
  const listen = str(env.BATON_LISTEN ?? raw.listen ?? DEFAULT_CONFIG.listen, 'listen');
  if (!HOSTPORT.test(listen)) throw new BatonError('ERR_INVALID_ARGUMENT', 'config: listen must be host:port');
  const services = (raw.services ?? DEFAULT_CONFIG.services) as unknown;
  if (!Array.isArray(services) || services.some((s) => !SERVICE_NAMES.includes(s as ServiceName))) {
    throw new BatonError('ERR_INVALID_ARGUMENT', `config: services must be a subset of ${SERVICE_NAMES.join(', ')}`);
  }
  const peersRaw = (raw.peers ?? {}) as Record<string, unknown>;
  const peers: Partial<Record<ServiceName, string>> = {};
  for (const [k, v] of Object.entries(peersRaw)) {
    if (!SERVICE_NAMES.includes(k as ServiceName) || typeof v !== 'string' || !HOSTPORT.test(v)) throw new BatonError('ERR_INVALID_ARGUMENT', `config: peers.${k}`);
    peers[k as ServiceName] = v;
  }
  const keyEntries = (field: 'operators' | 'resources'): OperatorEntry[] =>
    ((raw[field] ?? []) as unknown[]).map((o, i) => {
      const e = o as { id?: unknown; jwk?: unknown };
      const id = str(e?.id, `${field}[${i}].id`);
      importPublicJwk(e.jwk); // validates
      const jwk = e.jwk as PublicJwk;
      return { id, jwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x } as PublicJwk };
    });
  const operators = keyEntries('operators');
  const resources = keyEntries('resources');
  const metricsListen = (env.BATON_METRICS_LISTEN ?? raw.metricsListen) as string | undefined;
  if (metricsListen !== undefined && !HOSTPORT.test(metricsListen)) throw new BatonError('ERR_INVALID_ARGUMENT', 'config: metricsListen');
  const traceFile = env.BATON_TRACE_FILE ?? (raw.tracing as { file?: string } | undefined)?.file;
  const exporter = env.OTEL_EXPORTER_OTLP_ENDPOINT
    ? 'otlp'
    : traceFile
      ? 'file'
      : (((raw.tracing as { exporter?: string } | undefined)?.exporter ?? 'none') as AuthorityConfig['tracing']['exporter']);
  return {
    trustDomain,
    issuer: str(raw.issuer ?? `spiffe://${trustDomain}/authority`, 'issuer'),
    dataDir,
    store,
    listen,
    services: services as ServiceName[],
    peers,
    operators,
    resources,
    metricsListen,
    tracing: traceFile ? { exporter, file: path.resolve(base, traceFile) } : { exporter },
    tls: parseTlsConfig(raw.tls, base),
  };
}

/** jkt → operator id. */
export function operatorMap(config: AuthorityConfig): Map<string, string> {
  return new Map(config.operators.map((o) => [jwkThumbprint(o.jwk), o.id]));
}
