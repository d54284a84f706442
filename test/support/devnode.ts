// Starts dev nodes for tests: in-process (fast) or as a child process running the compiled CLI (for restart and
// SIGKILL tests). Every node a test starts must be stopped by it (`stop()` / `kill()`).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DevNode } from '../../src/devnode/node.js';

export interface StartedNode {
  url: string;
  port: number;
  stop(): Promise<void>;
  /** SIGKILL (child process only). */
  kill(): Promise<void>;
  /** Starts again on the same port and data directory (child process only). */
  restart(): Promise<void>;
  inProcess: DevNode | null;
}

export interface DevNodeStartOptions {
  masterKey?: string;
  dataDir?: string;
  childProcess?: boolean;
  faultDelayMs?: number;
  port?: number;
}

/** The compiled CLI, whether this file runs from dist/test/support or (under tsx) from test/support. */
export function cliPath(): string {
  const here = fileURLToPath(import.meta.url);
  const root = here.includes('/dist/') ? here.slice(0, here.indexOf('/dist/')) : join(here, '../../..');
  return join(root, 'dist/src/main/cli.js');
}

async function spawnNode(args: string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, [cliPath(), 'devnode', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`devnode exited with ${code}: ${stderr}`)));
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; port?: number };
        if (msg.event === 'listening' && typeof msg.port === 'number') resolve(msg.port);
      } catch {
        /* not our line */
      }
    });
  });
  child.removeAllListeners('exit');
  return { child, port };
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));
}

export async function startDevNode(opts: DevNodeStartOptions = {}): Promise<StartedNode> {
  if (!opts.childProcess) {
    const node = await DevNode.start({
      port: opts.port ?? 0,
      masterKey: opts.masterKey ?? null,
      dataDir: opts.dataDir ?? null,
      faultDelayMs: opts.faultDelayMs,
    });
    return {
      url: node.url,
      port: node.port,
      inProcess: node,
      stop: () => node.stop(),
      kill: () => node.stop(),
      restart: () => Promise.reject(new Error('restart needs childProcess: true')),
    };
  }
  const args = (port: number) => [
    '--port',
    String(port),
    ...(opts.masterKey ? ['--master-key', opts.masterKey] : []),
    ...(opts.dataDir ? ['--data', opts.dataDir] : []),
    ...(opts.faultDelayMs ? ['--fault-delay-ms', String(opts.faultDelayMs)] : []),
  ];
  const first = await spawnNode(args(opts.port ?? 0));
  let child = first.child;
  const port = first.port;
  const started: StartedNode = {
    url: `http://127.0.0.1:${port}`,
    port,
    inProcess: null,
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async restart() {
      ({ child } = await spawnNode(args(port)));
    },
  };
  return started;
}

/** A fresh temporary directory removed by the returned cleanup. */
export function tempDir(prefix = 'miroir-test-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
