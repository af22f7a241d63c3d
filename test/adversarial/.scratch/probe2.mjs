import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { loadOrCreateKeyFile } from '@baton/authority';
const N = Number(process.argv[2] ?? 10000), CH = Number(process.argv[3] ?? 8);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adv-'));
const op = loadOrCreateKeyFile(path.join(dir, 'op.jwk'));
fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ dataDir: 'data', listen: '127.0.0.1:0', operators: [{ id: 'op', jwk: op.publicJwk }] }));
const main = path.join(path.dirname(new URL(import.meta.resolve('@baton/authority')).pathname), 'main.js');
const child = spawn(process.execPath, [main, '--config', path.join(dir, 'a.json')], { stdio: ['ignore', 'pipe', 'inherit'] });
const ready = await new Promise((res) => createInterface({ input: child.stdout }).on('line', (l) => res(JSON.parse(l))));
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
console.log('ready', ready.address, 'rss', rss(child.pid).toFixed(1), 'self', (process.memoryUsage().rss / 1048576).toFixed(1));
const clients = Array.from({ length: CH }, (_, i) => new grpc.Client(ready.address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
const id = (x) => x;
let t = Date.now(); let snap = 0; const calls = [];
await new Promise((resolve) => {
  for (let i = 0; i < N; i++) {
    const c = clients[i % CH].makeServerStreamRequest('/baton.issuer.v1.IssuerService/WatchRevocations', id, id, Buffer.alloc(0), new grpc.Metadata(), {});
    let seen = 0;
    c.on('data', () => { if (++seen === 2) { if (++snap === N) resolve(); } });
    c.on('error', (e) => { if (e.code !== 1) console.log('err', e.code, e.details); });
    calls.push(c);
  }
});
console.log('all snapshots', Date.now() - t, 'ms rss', rss(child.pid).toFixed(1), 'self', (process.memoryUsage().rss / 1048576).toFixed(1));
await new Promise((r) => setTimeout(r, 6000));
console.log('after keepalive rss', rss(child.pid).toFixed(1));
t = Date.now();
for (const c of calls) c.cancel();
await new Promise((r) => setTimeout(r, 2000));
console.log('after cancel rss', rss(child.pid).toFixed(1), Date.now() - t);
child.kill('SIGTERM'); for (const c of clients) c.close();
