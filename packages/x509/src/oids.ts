/** The object identifiers Baton's certificates use (dotted form). */
export const Oid = Object.freeze({
  /** id-Ed25519 (RFC 8410): signature and key algorithm, parameters absent. */
  ed25519: '1.3.101.112',
  /** id-at-commonName. */
  commonName: '2.5.4.3',
  /** id-at-organizationName. */
  organizationName: '2.5.4.10',
  /** id-ce-subjectKeyIdentifier. */
  subjectKeyIdentifier: '2.5.29.14',
  /** id-ce-keyUsage. */
  keyUsage: '2.5.29.15',
  /** id-ce-subjectAltName. */
  subjectAltName: '2.5.29.17',
  /** id-ce-basicConstraints. */
  basicConstraints: '2.5.29.19',
  /** id-ce-authorityKeyIdentifier. */
  authorityKeyIdentifier: '2.5.29.35',
  /** id-ce-extKeyUsage. */
  extKeyUsage: '2.5.29.37',
  /** id-kp-serverAuth. */
  serverAuth: '1.3.6.1.5.5.7.3.1',
  /** id-kp-clientAuth. */
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const);

/** KeyUsage bit numbers (RFC 5280 §4.2.1.3). */
export const KeyUsageBit = Object.freeze({
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const);
