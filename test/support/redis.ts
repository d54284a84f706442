// Starts a real redis-server on a free loopback port with a temporary directory, waits until it answers PING,
// and can SIGKILL it and start it again on the same port. Tests stop every server they start; a suite that needs
// it passes `{ skip: redisSkip() }` (skips on a machine without redis-server, fails under CI).
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, createConnection } from 'node:net';
import { requireBinary } from './binaries.js';
import { tempDir } from './devnode.js';

/** node:test `skip` value for a suite that needs redis-server (see binaries.ts). */
export function redisSkip(): false | string {
  return requireBinary('redis-server', 'redis-server');
}

export interface RedisServer {
  url: string;
  port: number;
  kill(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port }, () => sock.write('PING\r\n'));
    sock.once('data', (d) => {
      sock.destroy();
      resolve(d.toString().startsWith('+PONG'));
    });
    sock.once('error', () => resolve(false));
  });
}

export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const dir = tempDir('miroir-redis-');
  let child: ChildProcess | null = null;
  const launch = async () => {
    const c = spawn(
      'redis-server',
      ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir.dir, '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' },
    );
    child = c;
    let spawnError: Error | null = null;
    c.once('error', (err) => (spawnError = err));
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (spawnError !== null) throw spawnError;
      if (Date.now() > deadline) throw new Error('redis-server did not answer PING within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const exit = async (signal: NodeJS.Signals) => {
    const c = child;
    if (c === null || c.exitCode !== null) return;
    const done = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
    await done;
    child = null;
  };
  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    kill: () => exit('SIGKILL'),
    start: launch,
    async stop() {
      await exit('SIGTERM');
      dir.cleanup();
    },
  };
}
