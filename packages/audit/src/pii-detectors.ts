/**
 * Detectors for secrets and personal data inside free-form values. Each match is
 * replaced by `[REDACTED:<kind>]`. Order matters: multi-line and structured secrets
 * first, so a JWT is not half-eaten by the phone-number rule.
 */

/** What a detector found. */
export type SensitiveKind = 'private-key' | 'jwt' | 'token' | 'secret' | 'email' | 'card' | 'ssn' | 'phone';

interface Detector {
  readonly kind: SensitiveKind;
  readonly pattern: RegExp;
  /** Optional second check on a candidate match (e.g. Luhn). */
  readonly accept?: (match: string) => boolean;
  /** Keeps a prefix of the match (e.g. the `Bearer ` scheme). */
  readonly keep?: (match: string) => string;
}

/** Luhn checksum over the digits of `s` (separators ignored). */
export function luhnValid(s: string): boolean {
  const digits = s.replace(/[^0-9]/g, '');
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return digits.length > 0 && sum % 10 === 0;
}

const DETECTORS: readonly Detector[] = [
  // PEM private keys, whole block (or to the end if the END line was cut off).
  { kind: 'private-key', pattern: /-----BEGIN[A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE KEY-----|$)/g },
  // JWS/JWT/JWE compact serializations: the header is base64url JSON, so starts with eyJ.
  { kind: 'jwt', pattern: /\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?/g },
  // Authorization header credentials.
  {
    kind: 'token',
    pattern: /\b(?:Bearer|DPoP|Basic|Token|Digest)\s+[A-Za-z0-9._~+/=-]{8,}/gi,
    keep: (m) => /^\S+\s+/.exec(m)![0],
  },
  // Well-known API key shapes.
  {
    kind: 'secret',
    pattern: /\b(?:(?:sk|pk|rk)[-_](?:live|test|proj)[-_][A-Za-z0-9_-]{12,}|sk-[A-Za-z0-9_-]{20,}|gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,}|xox[abprs]-[A-Za-z0-9-]{10,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{35})\b/g,
  },
  // key=value / key: value pairs whose key names a secret.
  {
    kind: 'secret',
    pattern: /\b(?:password|passwd|pwd|secret|api[_-]?key|access[_-]?key|client[_-]?secret|private[_-]?key|token|auth)\b["']?\s*[:=]\s*["']?[^\s"'&,;]{4,}/gi,
    keep: (m) => /^[^:=]*[:=]\s*["']?/.exec(m)![0],
  },
  { kind: 'email', pattern: /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g },
  // Card numbers: 13–19 digits, optionally grouped by single spaces or dashes, issuer
  // prefix 3–6, Luhn-valid (keeps timestamps and amounts from matching).
  { kind: 'card', pattern: /(?<![0-9])[3-6][0-9](?:[ -]?[0-9]){11,17}(?![0-9])/g, accept: luhnValid },
  { kind: 'ssn', pattern: /(?<![0-9])(?!000|666|9[0-9]{2})[0-9]{3}[- ](?!00)[0-9]{2}[- ](?!0000)[0-9]{4}(?![0-9])/g },
  // Phone numbers: international (+ or 00 prefix) or North American 3-3-4 groupings.
  {
    kind: 'phone',
    pattern: /(?:(?<![\w+])\+|(?<![0-9])00)[1-9][0-9]{0,3}(?:[ .-]?\(?[0-9]{1,4}\)?){2,5}(?![0-9])|(?<![0-9])\(?[2-9][0-9]{2}\)?[ .-][0-9]{3}[ .-][0-9]{4}(?![0-9])/g,
    accept: (m) => {
      const n = m.replace(/[^0-9]/g, '').length;
      return n >= 8 && n <= 15;
    },
  },
];

/** Result of {@link redactSensitive}. */
export interface Redaction {
  readonly value: string;
  /** Kinds found, one per match. */
  readonly found: readonly SensitiveKind[];
}

// All detectors in one alternation (earlier ones win at a position), so a value is
// scanned once instead of once per detector.
const COMBINED = new RegExp(DETECTORS.map((d, i) => `(?<d${i}>${d.pattern.source})`).join('|'), 'gi');

/**
 * Replaces every detected secret or personal datum in `value` with `[REDACTED:<kind>]`.
 *
 * @example redactSensitive('mail bob@example.com') // { value: 'mail [REDACTED:email]', found: ['email'] }
 */
export function redactSensitive(value: string): Redaction {
  const found: SensitiveKind[] = [];
  const out = value.replace(COMBINED, (m: string, ...args: unknown[]) => {
    const groups = args[args.length - 1] as Record<string, string | undefined>;
    const i = DETECTORS.findIndex((_, k) => groups[`d${k}`] !== undefined);
    const d = DETECTORS[i];
    if (!d) return m;
    // Rejected candidate (e.g. digits failing Luhn): the later detectors still get a look.
    if (d.accept && !d.accept(m)) return sequential(m, i + 1, found);
    found.push(d.kind);
    return `${d.keep ? d.keep(m) : ''}[REDACTED:${d.kind}]`;
  });
  return { value: out, found };
}

function sequential(value: string, from: number, found: SensitiveKind[]): string {
  let out = value;
  for (const d of DETECTORS.slice(from)) {
    out = out.replace(new RegExp(d.pattern.source, 'gi'), (m) => {
      if (d.accept && !d.accept(m)) return m;
      found.push(d.kind);
      return `${d.keep ? d.keep(m) : ''}[REDACTED:${d.kind}]`;
    });
  }
  return out;
}
