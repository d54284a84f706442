// The `miroir` executable as an operator runs it: `serve` refuses a bad config naming the key, serves a good one
// and exits cleanly on SIGTERM; `dev` starts a whole cluster that answers with the printed key and stops on SIGINT.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { cliPath, startDevNode, tempDir } from '../../support/devnode.js';

const children: ChildProcess[] = [];
const cleanups: Array<() => unknown> = [];
after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const c of cleanups.reverse()) await c();
});

function run(args: string[]) {
  const child = spawn(process.execPath, [cliPath(), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exit, stderr: () => stderr, lines: createInterface({ input: child.stdout! }) };
}

test('serve: a bad config exits 2 with a message naming the key', async () => {
  const dir = tempDir();
  cleanups.push(dir.cleanup);
  const file = join(dir.dir, 'bad.yaml');
  writeFileSync(
    file,
    'shards: 16\nreplication_fator: 2\nadmin: {api_key: k}\nnodes: [{id: node-0, address: "http://127.0.0.1:1"}]\n',
  );
  const p = run(['serve', '--config', file]);
  assert.equal(await p.exit, 2);
  assert.match(p.stderr(), /replication_fator: unknown key/);
});

test('serve: starts from YAML, answers, and exits 0 on SIGTERM', async () => {
  const dir = tempDir();
  cleanups.push(dir.cleanup);
  const node = await startDevNode({ masterKey: 'node-key-0123456789' });
  cleanups.push(() => node.stop());
  const file = join(dir.dir, 'miroir.yaml');
  writeFileSync(
    file,
    `miroir:\n  shards: 8\n  replication_factor: 1\n  master_key: client-master-key-01\n  node_master_key: node-key-0123456789\n  admin: {api_key: admin-key}\n  task_store: {path: ${JSON.stringify(join(dir.dir, 'store'))}}\n  server: {port: 0, bind: 127.0.0.1}\n  metrics: {port: 0, bind: 127.0.0.1}\n  log: {level: error}\n  nodes:\n    - {id: node-0, address: "${node.url}"}\n`,
  );
  const p = run(['serve', '--config', file]);
  const started = await new Promise<{ url: string }>((resolve) =>
    p.lines.on('line', (l) => l.includes('"listening"') && resolve(JSON.parse(l))),
  );
  const res = await fetch(`${started.url}/keys`, { headers: { authorization: 'Bearer client-master-key-01' } });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { total: number }).total, 4);
  p.child.kill('SIGTERM');
  assert.equal(await p.exit, 0);
});

test('dev: one command starts nodes and a proxy; the printed master key works; SIGINT stops it', async () => {
  const p = run(['dev', '--nodes', '2', '--shards', '8', '--port', '0', '--master-key', 'dev-master-key-123']);
  const url = await new Promise<string>((resolve) =>
    p.lines.on('line', (l) => {
      const m = /URL:\s+(\S+)/.exec(l);
      if (m) resolve(m[1]!);
    }),
  );
  const res = await fetch(`${url}/keys`, { headers: { authorization: 'Bearer dev-master-key-123' } });
  assert.equal(res.status, 200);
  p.child.kill('SIGINT');
  assert.equal(await p.exit, 0);
});
