import fs from 'node:fs'; import os from 'node:os'; import path from 'node:path';
import http2 from 'node:http2';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { loadOrCreateKeyFile } from '@baton/authority';
const N = Number(process.argv[2] ?? 10000), CH = Number(process.argv[3] ?? 8);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'adv-'));
const op = loadOrCreateKeyFile(path.join(dir, 'op.jwk'));
fs.writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ dataDir: 'data', listen: '127.0.0.1:0', operators: [{ id: 'op', jwk: op.publicJwk }] }));
const main = path.join(path.dirname(new URL(import.meta.resolve('@baton/authority')).pathname), 'main.js');
const child = spawn(process.execPath, [main, '--config', path.join(dir, 'a.json')], { stdio: ['ignore', 'pipe', 'inherit'] });
const ready = await new Promise((res) => createInterface({ input: child.stdout }).on('line', (l) => res(JSON.parse(l))));
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
const cpu = (pid) => { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) / 100; };
console.log('ready', ready.address, 'rss', rss(child.pid).toFixed(1));
const sessions = Array.from({ length: CH }, () => { const s = http2.connect(`http://${ready.address}`, { settings: { enablePush: false } }); s.on("error", () => {}); return s; });
await Promise.all(sessions.map((s) => new Promise((r) => s.once('remoteSettings', r))));
console.log('remote settings', sessions[0].remoteSettings);
let t = Date.now(); const c0 = cpu(child.pid); const u0 = process.cpuUsage();
let snap = 0; const streams = [];
const frame = Buffer.alloc(5);
await new Promise((resolve) => {
  for (let i = 0; i < N; i++) {
    const s = sessions[i % CH].request({ ':method': 'POST', ':path': '/baton.issuer.v1.IssuerService/WatchRevocations', 'content-type': 'application/grpc', te: 'trailers' });
    s.end(frame);
    let bytes = 0, done = false;
    s.on('data', (d) => { bytes += d.length; if (!done && bytes >= 18) { done = true; if (++snap === N) resolve(); } });
    s.on('error', () => {});
    streams.push(s);
  }
});
const u = process.cpuUsage(u0);
console.log('all snapshots', Date.now() - t, 'ms; authority cpu', (cpu(child.pid) - c0).toFixed(2), 's; client cpu', ((u.user + u.system) / 1e6).toFixed(2), 'rss', rss(child.pid).toFixed(1), 'self', (process.memoryUsage().rss / 1048576).toFixed(1));
for (const s of streams) s.close(http2.constants.NGHTTP2_CANCEL);
await new Promise((r) => setTimeout(r, 2000));
console.log('after cancel rss', rss(child.pid).toFixed(1));
child.kill('SIGTERM'); for (const s of sessions) s.close();
