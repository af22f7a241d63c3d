// A corpus of secrets and personal data that must never reach storage. Every value is
// synthetic (test card numbers, reserved example domains, fictional numbers).

/**
 * Each needle must not appear in anything stored; `text` embeds it in a realistic value.
 * `freeText` entries have no detectable pattern: they are only safe where free text
 * belongs (hashed attributes, the principal).
 */
export const PII_CORPUS: ReadonlyArray<{ kind: string; needle: string; text: string; freeText?: true }> = [
  { kind: 'email', needle: 'alice.smith@example.com', text: 'notify alice.smith@example.com about invoice' },
  { kind: 'email', needle: 'bob+tag@mail.example.org', text: 'cc:bob+tag@mail.example.org' },
  { kind: 'phone', needle: '+1 415 555 0132', text: 'call +1 415 555 0132 now' },
  { kind: 'phone', needle: '(212) 555-0187', text: 'office (212) 555-0187' },
  { kind: 'phone', needle: '+44 20 7946 0958', text: 'uk +44 20 7946 0958' },
  { kind: 'phone', needle: '415.555.0199', text: 'mobile 415.555.0199' },
  { kind: 'phone', needle: '+49 30 1234 567890', text: 'berlin +49 30 1234 567890' },
  { kind: 'ssn', needle: '078-05-1120', text: 'ssn 078-05-1120 on file' },
  { kind: 'ssn', needle: '219 09 9999', text: 'ssn: 219 09 9999' },
  { kind: 'card', needle: '4111 1111 1111 1111', text: 'card 4111 1111 1111 1111 exp 12/30' },
  { kind: 'card', needle: '5555555555554444', text: 'pan=5555555555554444' },
  { kind: 'card', needle: '3782-822463-10005', text: 'amex 3782-822463-10005' },
  { kind: 'card', needle: '6011000990139424', text: 'discover 6011000990139424;' },
  {
    kind: 'jwt',
    needle: 'eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJzcGlmZmU6Ly94In0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU',
    text: 'token eyJhbGciOiJFZERTQSIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJzcGlmZmU6Ly94In0.c2lnbmF0dXJlLWJ5dGVzLWhlcmU leaked',
  },
  { kind: 'bearer', needle: 'abcDEF123456ghiJKL789', text: 'Authorization: Bearer abcDEF123456ghiJKL789' },
  { kind: 'bearer', needle: 'Zm9vOmJhcg-secret', text: 'dpop Zm9vOmJhcg-secret' },
  {
    kind: 'pem',
    needle: 'MC4CAQAwBQYDK2VwBCIEIFakeFakeFakeFakeFakeFakeFakeFakeFakeFake',
    text: '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIFakeFakeFakeFakeFakeFakeFakeFakeFakeFake\n-----END PRIVATE KEY-----',
  },
  {
    kind: 'pem',
    needle: 'MHcCAQEEIBogusBogusBogusBogusBogusBogusBogusBogusBo',
    text: '-----BEGIN EC PRIVATE KEY----- MHcCAQEEIBogusBogusBogusBogusBogusBogusBogusBogusBo -----END EC PRIVATE KEY-----',
  },
  { kind: 'secret', needle: 'hunter2hunter2', text: 'password=hunter2hunter2' },
  { kind: 'secret', needle: 'sk_live_4eC39HqLyjWDarjtT1zdp7dc', text: 'stripe sk_live_4eC39HqLyjWDarjtT1zdp7dc' },
  { kind: 'secret', needle: 'ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789', text: 'gh ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789' },
  { kind: 'secret', needle: 'AKIAIOSFODNN7EXAMPLE', text: 'aws AKIAIOSFODNN7EXAMPLE' },
  { kind: 'principal', needle: 'user:vp@acme.example', text: 'user:vp@acme.example' },
  { kind: 'prompt', needle: 'Summarise the medical record of Jane Roe', text: 'Summarise the medical record of Jane Roe', freeText: true },
];

/** Values that look numeric or structured but are not sensitive: must survive unchanged. */
export const BENIGN_VALUES: readonly string[] = [
  '1700000000000',
  'amount 6000 exceeds max 5000',
  'read:invoice:2024/07/123',
  'spiffe://baton.test/agent/orch/task/AbCdEf0123456789',
  '3f2504e0-4f89-11d3-9a0c-0305e82c3301',
  'hop 3 widened max_amount 10000 → 50000',
  '2024-07-01T12:00:00Z',
  'ERR_SCOPE_DENIED',
  'version 1.2.3.4',
  'sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08',
];
