// Child process of the crash test: runs the audit log on a SQLite file and appends in a
// burst from several concurrent writers, printing each acknowledged event id, until it is
// killed with SIGKILL. Runs the built package (dist/), so the test builds it first.
import { randomBytes } from 'node:crypto';
import { importPrivateJwk } from '@baton/core';
import { createAuditLog, createNoteSigner, createSanitizer, createSqliteAuditStore } from '../../dist/index.js';

const [path, origin] = process.argv.slice(2);
const key = importPrivateJwk(JSON.parse(process.env.BATON_TEST_LOG_JWK ?? ''));
const store = await createSqliteAuditStore({ path });
const log = createAuditLog({ store, signer: createNoteSigner(origin, key), origin, sanitizer: createSanitizer({ key: randomBytes(32) }), checkpointIntervalMs: 20 });
let n = 0;
const event = () => ({
  eventId: randomBytes(16).toString('base64url'),
  time: Date.now(),
  type: 'validation.allowed',
  source: 'guard:crash',
  resource: `invoice:${n++}`,
  principal: 'user:vp@acme.example',
});
async function writer() {
  for (;;) {
    const batch = Array.from({ length: 1 + (n % 25) }, event);
    const results = await log.append(batch);
    const acked = results.filter((r) => r.status === 'accepted').map((r) => r.eventId);
    process.stdout.write(`${acked.join('\n')}\n`);
  }
}
await Promise.all([writer(), writer(), writer(), writer()]);
