// Real Redis processes on free loopback ports for the store tests: one redis-server (optionally with ACL users,
// a password or TLS), a 3-master Redis Cluster (`redis-cli --cluster create`), and a primary + replica watched by
// 3 Sentinels. Each waits until it answers, can SIGKILL a member, and stops every process it started. A suite that
// needs them passes `{ skip: redisSkip() }` / `redisClusterSkip()` / `redisSentinelSkip()` (binaries.ts: a missing
// binary skips with one line, or fails under CI).
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, createConnection } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireBinary } from './binaries.js';
import { tempDir } from './devnode.js';
import { until } from './wait.js';

const run = promisify(execFile);

/** node:test `skip` value for a suite that needs redis-server (see binaries.ts). */
export function redisSkip(): false | string {
  return requireBinary('redis-server', 'redis-server');
}

/** A Redis Cluster is built with redis-cli (Debian redis-tools). */
export function redisClusterSkip(): false | string {
  return redisSkip() || requireBinary('redis-cli', 'redis-tools');
}

export function redisSentinelSkip(): false | string {
  return redisClusterSkip() || requireBinary('redis-sentinel', 'redis-sentinel');
}

export interface RedisServer {
  url: string;
  port: number;
  kill(): Promise<void>;
  /** SIGSTOP: the server keeps its sockets open and answers nothing (a wedged master), until `resume`. */
  pause(): void;
  resume(): void;
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

/** Whether `port` can be listened on now. */
async function portFree(port: number): Promise<boolean> {
  const s = createServer();
  const ok = await new Promise<boolean>((r) => {
    s.once('error', () => r(false));
    s.listen(port, '127.0.0.1', () => r(true));
  });
  if (ok) await new Promise<void>((r) => s.close(() => r()));
  return ok;
}

/**
 * A port for a Redis Cluster member: it also listens on port + 10000 (the cluster bus), which must be a valid port
 * and free too — an ephemeral port from `freePort` alone may be above 55535, or its bus port taken.
 */
async function freeClusterPort(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 10000 <= 65535 && (await portFree(port + 10000))) return port;
  }
}

/** True when a Redis answers on the plain port (a PONG, or a refusal that only asks for credentials). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = createConnection({ host: '127.0.0.1', port }, () => sock.write('PING\r\n'));
    sock.once('data', (d) => {
      sock.destroy();
      resolve(/^(\+PONG|-NOAUTH)/.test(d.toString()));
    });
    sock.once('error', () => resolve(false));
  });
}

/** `redis-cli -p port args...` (plain port, no credentials) → its output. */
export async function redisCli(port: number, ...args: string[]): Promise<string> {
  return (await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args])).stdout;
}

interface Proc {
  kill(): Promise<void>;
  pause(): void;
  resume(): void;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Runs `binary args` (a redis-server or redis-sentinel answering on `port`) until stopped; restartable. */
async function launch(binary: string, args: () => string[], port: number, cleanup: () => void): Promise<Proc> {
  let child: ChildProcess | null = null;
  const start = async () => {
    const c = spawn(binary, args(), { stdio: 'ignore' });
    child = c;
    let spawnError: Error | null = null;
    c.once('error', (err) => (spawnError = err));
    const deadline = Date.now() + 10_000;
    while (!(await ping(port))) {
      if (spawnError !== null) throw spawnError;
      if (c.exitCode !== null) throw new Error(`${binary} exited with ${c.exitCode} (${args().join(' ')})`);
      if (Date.now() > deadline) throw new Error(`${binary} did not answer PING on ${port} within 10 s`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  const exit = async (signal: NodeJS.Signals) => {
    const c = child;
    if (c === null || c.exitCode !== null || c.signalCode !== null) return;
    const done = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(signal);
    c.kill('SIGCONT'); // a paused server handles its SIGTERM only once it runs again
    await done;
    child = null;
  };
  await start();
  return {
    kill: () => exit('SIGKILL'),
    pause: () => void (child as ChildProcess | null)?.kill('SIGSTOP'),
    resume: () => void (child as ChildProcess | null)?.kill('SIGCONT'),
    start,
    async stop() {
      await exit('SIGTERM');
      cleanup();
    },
  };
}

export interface RedisOptions {
  /** Extra redis-server arguments (e.g. ['--requirepass', 'p'] or ACL rules via --user). */
  args?: string[];
  /** Also listen with TLS on `tlsPort` using these PEM files (the plain port stays for readiness checks). */
  tls?: { cert: string; key: string; ca: string };
}

export interface TlsRedisServer extends RedisServer {
  tlsPort: number;
  tlsUrl: string;
}

export async function startRedis(opts: RedisOptions = {}): Promise<TlsRedisServer> {
  const port = await freePort();
  const tlsPort = opts.tls === undefined ? 0 : await freePort();
  const dir = tempDir('miroir-redis-');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir.dir, '--save', '', '--appendonly', 'no'];
  if (opts.tls !== undefined)
    args.push(
      '--tls-port',
      String(tlsPort),
      '--tls-cert-file',
      opts.tls.cert,
      '--tls-key-file',
      opts.tls.key,
      '--tls-ca-cert-file',
      opts.tls.ca,
      '--tls-auth-clients',
      'no',
    );
  args.push(...(opts.args ?? []));
  const proc = await launch('redis-server', () => args, port, dir.cleanup);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    tlsPort,
    tlsUrl: `rediss://127.0.0.1:${tlsPort}`,
    ...proc,
  };
}

export interface RedisClusterProcs {
  /** Seed URLs of the 3 masters. */
  urls: string[];
  ports: number[];
  stop(): Promise<void>;
}

/** Three redis-server --cluster-enabled masters joined by `redis-cli --cluster create` (no replicas). */
export async function startRedisCluster(): Promise<RedisClusterProcs> {
  const ports = [await freeClusterPort(), await freeClusterPort(), await freeClusterPort()];
  const dir = tempDir('miroir-redis-cluster-');
  const procs: Proc[] = [];
  const stop = async () => {
    for (const p of procs) await p.stop();
    dir.cleanup();
  };
  try {
    for (const port of ports) {
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir.dir,
        '--save',
        '',
        '--appendonly',
        'no',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        `nodes-${port}.conf`,
        '--cluster-node-timeout',
        '2000',
      ];
      procs.push(
        await launch(
          'redis-server',
          () => args,
          port,
          () => undefined,
        ),
      );
    }
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((p) => `127.0.0.1:${p}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ]);
    await until(
      async () => {
        for (const p of ports) if (!(await redisCli(p, 'cluster', 'info')).includes('cluster_state:ok')) return false;
        return true;
      },
      'the Redis Cluster to report cluster_state:ok on every node',
      20_000,
      50,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { urls: ports.map((p) => `redis://127.0.0.1:${p}`), ports, stop };
}

export interface RedisSentinelProcs {
  /** Sentinel master group name. */
  name: string;
  sentinels: Array<{ host: string; port: number }>;
  /** The Redis servers: the primary at start, then the replicas. */
  servers: Array<{ port: number; kill(): Promise<void> }>;
  /** The port of the master the Sentinels name now. */
  masterPort(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * A primary and `replicas` replicas (default 1) watched by 3 Sentinels (quorum 2, down after `downAfterMs`).
 * `serverArgs` go to every Redis server. With WAIT for one replica, writes go on after a failover only if a replica
 * is left, so failover tests start two.
 */
export async function startRedisSentinel(
  opts: { downAfterMs?: number; serverArgs?: string[]; replicas?: number } = {},
): Promise<RedisSentinelProcs> {
  const name = 'miroir-master';
  const dir = tempDir('miroir-redis-sentinel-');
  const procs: Proc[] = [];
  const stop = async () => {
    for (const p of [...procs].reverse()) await p.stop();
    dir.cleanup();
  };
  const servers: Array<{ port: number; kill(): Promise<void> }> = [];
  const sentinels: Array<{ host: string; port: number }> = [];
  try {
    const primary = await freePort();
    const roles = ['primary', ...Array.from({ length: opts.replicas ?? 1 }, () => 'replica' as const)] as const;
    for (const role of roles) {
      const port = role === 'primary' ? primary : await freePort();
      const args = [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir.dir,
        '--dbfilename',
        `dump-${port}.rdb`,
        '--save',
        '',
        '--appendonly',
        'no',
        ...(role === 'replica' ? ['--replicaof', '127.0.0.1', String(primary)] : []),
        ...(opts.serverArgs ?? []),
      ];
      const proc = await launch(
        'redis-server',
        () => args,
        port,
        () => undefined,
      );
      procs.push(proc);
      servers.push({ port, kill: proc.kill });
    }
    await until(
      async () => {
        for (const s of servers.slice(1))
          if (!/master_link_status:up/.test(await redisCli(s.port, 'info', 'replication'))) return false;
        return true;
      },
      'the replicas to sync with the primary',
      20_000,
      50,
    );
    for (let i = 0; i < 3; i++) {
      const port = await freePort();
      const file = join(dir.dir, `sentinel-${port}.conf`);
      writeFileSync(
        file,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir.dir}`,
          `sentinel monitor ${name} 127.0.0.1 ${primary} 2`,
          `sentinel down-after-milliseconds ${name} ${opts.downAfterMs ?? 1000}`,
          `sentinel failover-timeout ${name} 10000`,
          `sentinel parallel-syncs ${name} 1`,
          '',
        ].join('\n'),
      );
      procs.push(
        await launch(
          'redis-sentinel',
          () => [file],
          port,
          () => undefined,
        ),
      );
      sentinels.push({ host: '127.0.0.1', port });
    }
    // Each Sentinel must know the replica and the two other Sentinels before a failover can be agreed.
    await until(
      async () => {
        for (const s of sentinels) {
          const info = await redisCli(s.port, 'sentinel', 'master', name);
          if (!info.includes(`num-slaves\n${servers.length - 1}\n`) || !/num-other-sentinels\n2\n/.test(info))
            return false;
        }
        return true;
      },
      'the Sentinels to see the replica and each other',
      30_000,
      100,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    name,
    sentinels,
    servers,
    async masterPort() {
      const out = await redisCli(sentinels[0]!.port, 'sentinel', 'get-master-addr-by-name', name);
      return Number(out.trim().split('\n')[1]);
    },
    stop,
  };
}

/** A Redis store for Miroir pods to share: the `task_store` keys that reach it, and how to stop it. */
export interface SharedRedis {
  taskStore: Record<string, unknown>;
  stop(): Promise<void>;
}

/** The Redis layouts a multi-pod suite runs on: one redis-server and a 3-master Cluster (each skips when missing). */
export const REDIS_SHAPES: ReadonlyArray<{
  name: string;
  skip: () => false | string;
  start: () => Promise<SharedRedis>;
}> = [
  {
    name: 'one redis-server',
    skip: redisSkip,
    start: async () => {
      const r = await startRedis();
      return { taskStore: { url: r.url }, stop: () => r.stop() };
    },
  },
  {
    name: 'a 3-master Redis Cluster',
    skip: redisClusterSkip,
    start: async () => {
      const c = await startRedisCluster();
      return { taskStore: { redis: { cluster: c.urls } }, stop: () => c.stop() };
    },
  },
];
