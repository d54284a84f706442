// The proxy tax, side by side in one run: what a search costs through nginx (one keep-alive hop), the simplest Node
// proxy (node:http both sides, keep-alive agent), Miroir over 1 stub node and Miroir over 3 (fan-out + merge),
// against the same search sent straight to a stub node. Stub nodes answer a canned 20-hit page in a process of their
// own; every proxy runs in its own process; load comes from a third (loadgen.ts). Per path: added p50 over direct
// (sequential requests, taking turns with the direct path), CPU per request of the proxy process (/proc/<pid>/stat, all threads,
// during the c32 phase) and requests/s at 32 connections; medians over BENCH_ROUNDS rounds (default 3), the order
// of the paths rotating each round. Writes bench/results/proxy-tax.{json,svg} and the table in bench/README.md.
// Run after `npm run build`: `node dist/bench/e2e/proxy-tax.bench.js`.
import { fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findBinary } from '../../test/support/binaries.js';
import { freePort } from '../../test/support/redis.js';
import { barsSvg } from '../chart.js';
import { forkLoadGen, type Target } from './loadgen.js';
import { forkBenchProxy } from './proxy.js';
import { forkStubs, STUB_INDEX } from './stubs.js';
import { cpuMs } from './proc.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const SEQUENTIAL = 2000;
const CONNECTIONS = 32;
const LOAD_MS = 3000;
const MASTER = 'proxy-tax-master-key-01';
const targetOf = (url: string): Target => ({
  url,
  path: `/indexes/${STUB_INDEX}/search`,
  body: '{"q":"quick","limit":20}',
  headers: { authorization: `Bearer ${MASTER}` },
});

interface Path {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

function untilListening(port: number, child: { exitCode: number | null }): Promise<void> {
  const deadline = Date.now() + 10_000;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) return reject(new Error(`exited with ${child.exitCode} before listening`));
      const s = connect({ host: '127.0.0.1', port }, () => {
        s.destroy();
        resolve();
      });
      s.once('error', () =>
        Date.now() > deadline ? reject(new Error(`nothing listens on ${port} after 10 s`)) : setTimeout(attempt, 20),
      );
    };
    attempt();
  });
}

/** nginx from the Debian package, one process, with its own config in a temporary directory; null when missing. */
async function startNginx(upstream: string): Promise<Path | null> {
  const bin = findBinary('nginx', ['/usr/sbin', '/usr/local/sbin']);
  if (bin === null) return null;
  const dir = mkdtempSync(join(tmpdir(), 'miroir-nginx-'));
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `daemon off;
master_process off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream stub {
    server ${new URL(upstream).host};
    keepalive 64;
    keepalive_requests 100000000;
  }
  server {
    listen 127.0.0.1:${port};
    keepalive_requests 100000000;
    location / {
      proxy_pass http://stub;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
`,
  );
  const child = spawn(bin, ['-p', `${dir}/`, '-c', conf, '-e', `${dir}/error.log`], {
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  await untilListening(port, child);
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      child.kill('SIGQUIT');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function forkNodeProxy(upstream: string): Promise<Path> {
  const child = fork(fileURLToPath(import.meta.url), ['node-proxy', upstream], { stdio: 'inherit' });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', (m) => resolve(m as string));
    child.once('error', reject);
  });
  return {
    url,
    pid: child.pid!,
    async stop() {
      child.disconnect();
      await exited;
    },
  };
}

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const round2 = (v: number) => Math.round(v * 100) / 100;
const round3 = (v: number) => Math.round(v * 1000) / 1000;

interface Sample {
  p50Ms: number;
  addedP50Ms: number;
  p99Ms: number;
  cpuMsPerRequest: number;
  requestsPerSec: number;
  errors: number;
}

async function main(): Promise<void> {
  const stubs = await forkStubs(3);
  const started: Path[] = [];
  const loadgen = await forkLoadGen();
  try {
    const single = stubs.addresses[0]!;
    const rows: Array<{ key: string; name: string; path: Path | null }> = [
      { key: 'direct', name: 'direct to the stub node', path: { url: single, pid: stubs.pid, stop: async () => {} } },
      { key: 'nginx', name: 'nginx (one keep-alive hop)', path: await startNginx(single) },
      {
        key: 'node',
        name: 'simplest Node proxy (node:http both sides, keep-alive)',
        path: await forkNodeProxy(single),
      },
      { key: 'miroir1', name: 'Miroir over 1 node', path: await forkBenchProxy([single], MASTER, STUB_INDEX) },
      {
        key: 'miroir3',
        name: 'Miroir over 3 nodes (fan-out + merge)',
        path: await forkBenchProxy(stubs.addresses, MASTER, STUB_INDEX),
      },
    ];
    for (const r of rows) if (r.path !== null && r.key !== 'direct') started.push(r.path);
    if (rows[1]!.path === null) console.log('nginx not installed (apt-get install nginx): its row is skipped');

    const samples = new Map<string, Sample[]>(rows.map((r) => [r.key, []]));
    const measured = rows.filter((r) => r.path !== null);
    for (let round = 0; round < ROUNDS; round++) {
      const order = measured.map((_, i) => measured[(i + round) % measured.length]!);
      for (const row of order) {
        const path = row.path!;
        const target = targetOf(path.url);
        // Sequential latency taking turns with the direct path, so both are measured under the same conditions.
        const pair = row.key === 'direct' ? [target] : [target, targetOf(single)];
        await loadgen.seq(pair, 300);
        await loadgen.load(target, CONNECTIONS, 500);
        const [lat, directLat] = await loadgen.seq(pair, SEQUENTIAL);
        const cpu0 = cpuMs(path.pid);
        const load = await loadgen.load(target, CONNECTIONS, LOAD_MS);
        const cpu = cpuMs(path.pid) - cpu0;
        samples.get(row.key)!.push({
          p50Ms: pct(lat!, 50),
          addedP50Ms: directLat === undefined ? 0 : pct(lat!, 50) - pct(directLat, 50),
          p99Ms: pct(lat!, 99),
          cpuMsPerRequest: cpu / Math.max(1, load.done),
          requestsPerSec: load.done / (load.elapsedMs / 1000),
          errors: load.errors,
        });
        process.stderr.write('.');
      }
    }
    process.stderr.write('\n');

    const results = rows.map((r) => {
      const s = samples.get(r.key)!;
      if (s.length === 0) return { key: r.key, path: r.name, measured: false as const };
      return {
        key: r.key,
        path: r.name,
        measured: true as const,
        p50Ms: round3(median(s.map((x) => x.p50Ms))),
        addedP50Ms: round3(median(s.map((x) => x.addedP50Ms))),
        p99Ms: round3(median(s.map((x) => x.p99Ms))),
        cpuMsPerRequest: round3(median(s.map((x) => x.cpuMsPerRequest))),
        requestsPerSec: Math.round(median(s.map((x) => x.requestsPerSec))),
        errors: s.reduce((n, x) => n + x.errors, 0),
        rounds: s.map((x) => ({
          p50Ms: round3(x.p50Ms),
          addedP50Ms: round3(x.addedP50Ms),
          cpuMsPerRequest: round3(x.cpuMsPerRequest),
          requestsPerSec: Math.round(x.requestsPerSec),
        })),
      };
    });
    const get = (key: string) =>
      results.find((r) => r.key === key && r.measured) as
        Extract<(typeof results)[number], { measured: true }> | undefined;
    const [node, m1, m3] = [get('node')!, get('miroir1')!, get('miroir3')!];
    const goals = {
      miroir1AddedP50VsNode: { value: round2(m1.addedP50Ms / node.addedP50Ms), goal: '≤ 1.5' },
      miroir1CpuVsNode: { value: round2(m1.cpuMsPerRequest / node.cpuMsPerRequest), goal: '≤ 1.5' },
      miroir3CpuVsNode: { value: round2(m3.cpuMsPerRequest / node.cpuMsPerRequest), goal: '≤ 3' },
      miroir3RequestsPerSec: { value: m3.requestsPerSec, goal: '≥ 3,000' },
    };
    const errors = results.reduce((n, r) => n + (r.measured ? r.errors : 0), 0);

    const table = [
      '| path | +p50 over direct | CPU per request | req/s at c32 |',
      '|---|---|---|---|',
      ...results.map((r) =>
        !r.measured
          ? `| ${r.path} | not installed | | |`
          : r.key === 'direct'
            ? `| ${r.path} | (p50 ${r.p50Ms.toFixed(2)} ms) | ${r.cpuMsPerRequest.toFixed(3)} ms (stub) | ${r.requestsPerSec.toLocaleString('en-US')} |`
            : `| ${r.path} | ${r.addedP50Ms.toFixed(2)} ms | ${r.cpuMsPerRequest.toFixed(3)} ms | ${r.requestsPerSec.toLocaleString('en-US')} |`,
      ),
      '',
      `Goals: Miroir over 1 node ÷ simplest Node proxy, added p50 **${goals.miroir1AddedP50VsNode.value}** (≤ 1.5), CPU per request ` +
        `**${goals.miroir1CpuVsNode.value}** (≤ 1.5); Miroir over 3 nodes ÷ simplest Node proxy, CPU per request ` +
        `**${goals.miroir3CpuVsNode.value}** (≤ 3); Miroir over 3 nodes **${m3.requestsPerSec.toLocaleString('en-US')}** req/s at c32 (≥ 3,000).`,
    ].join('\n');
    console.log(table);
    if (errors > 0) console.log(`errors (non-200 answers): ${errors}`);

    const out = {
      date: new Date().toISOString(),
      node: process.version,
      cpus: cpus().length,
      rounds: ROUNDS,
      sequentialRequests: SEQUENTIAL,
      connections: CONNECTIONS,
      loadMs: LOAD_MS,
      rows: results,
      goals,
      errors,
    };
    const dirOut = new URL('../results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/');
    mkdirSync(dirOut, { recursive: true });
    writeFileSync(`${dirOut}proxy-tax.json`, JSON.stringify(out, null, 2) + '\n');
    const names = results.map((r) => r.path.replace(/ \(.*\)$/, ''));
    const val = (f: (r: Extract<(typeof results)[number], { measured: true }>) => number) =>
      results.map((r) => (r.measured ? f(r) : null));
    writeFileSync(
      `${dirOut}proxy-tax.svg`,
      barsSvg(
        `Proxy tax: one canned 20-hit search (${ROUNDS} rounds, medians; ${out.cpus} cores)`,
        names,
        [
          { title: '+p50 over direct', unit: 'ms', values: val((r) => (r.key === 'direct' ? 0 : r.addedP50Ms)) },
          { title: 'CPU per request', unit: 'ms', values: val((r) => r.cpuMsPerRequest) },
          { title: 'req/s at c32', unit: 'req/s', values: val((r) => r.requestsPerSec) },
        ],
        ['#888888', '#2a9d8f', '#e9c46a', '#e76f51', '#9b2226'],
      ),
    );
    // The latest table in bench/README.md, between its proxy-tax markers.
    const readme = `${dirOut}../README.md`;
    const text = existsSync(readme) ? readFileSync(readme, 'utf8') : '';
    const begin = '<!-- proxy-tax:begin -->';
    const end = '<!-- proxy-tax:end -->';
    const [a, b] = [text.indexOf(begin), text.indexOf(end)];
    if (a !== -1 && b > a) {
      const stamp = `Run ${out.date.slice(0, 10)}, Node ${out.node}, ${out.cpus} cores, ${ROUNDS} rounds (medians); \`bench/results/proxy-tax.{json,svg}\`.`;
      writeFileSync(readme, `${text.slice(0, a + begin.length)}\n${table}\n\n${stamp}\n${text.slice(b)}`);
    }
  } finally {
    await loadgen.close();
    for (const p of started.reverse()) await p.stop();
    await stubs.stop();
  }
}

if (process.argv[2] === 'node-proxy') {
  // The simplest Node proxy: every request forwarded as it came over a keep-alive agent, the answer piped back.
  const up = new URL(process.argv[3]!);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const server = createServer((req, res) => {
    const out = request(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers, agent },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.writeHead(502).end());
    req.pipe(out);
  });
  server.listen(0, '127.0.0.1', () => process.send!(`http://127.0.0.1:${(server.address() as AddressInfo).port}`));
  process.on('disconnect', () => process.exit(0));
} else {
  await main();
}
