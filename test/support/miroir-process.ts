// Runs `miroir serve` as a child process (compiled CLI) for SIGKILL and multi-pod tests: writes the config to a
// temp file, waits for the `listening` line, and restarts on the same port. Every process started is stopped by
// `stop()`/`kill()`.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cliPath, tempDir } from './devnode.js';

export interface MiroirProcess {
  readonly url: string;
  readonly port: number;
  /** The running process's id (changes on restart). */
  readonly pid: number;
  /** Graceful stop (SIGTERM). */
  stop(): Promise<void>;
  kill(): Promise<void>;
  /** Starts again with the same config, environment and port. */
  restart(): Promise<void>;
  readonly output: string[];
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve()
    : new Promise((r) => child.once('exit', () => r()));
}

export async function startMiroirProcess(
  config: Record<string, unknown>,
  env: Record<string, string> = {},
  fixedPort = 0,
): Promise<MiroirProcess> {
  const dir = tempDir('miroir-proc-');
  const file = join(dir.dir, 'config.yaml');
  const output: string[] = [];
  const spawnOnce = async (port: number): Promise<{ child: ChildProcess; port: number }> => {
    const server = { ...((config.server as Record<string, unknown>) ?? {}), port, bind: '127.0.0.1' };
    writeFileSync(
      file,
      JSON.stringify({ ...config, server, metrics: { port: 0, bind: '127.0.0.1' }, log: { level: 'warn' } }),
    );
    // MIROIR_PROCESS_NODE_ARGS: V8/Node flags for the proxy process only (a bench's heap cap, a profiler).
    const nodeArgs = (process.env.MIROIR_PROCESS_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const child = spawn(process.execPath, [...nodeArgs, cliPath(), 'serve', '--config', file], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
    const lines = createInterface({ input: child.stdout! });
    const bound = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`miroir exited with ${code}: ${output.join('').slice(-2000)}`)));
      lines.on('line', (line) => {
        output.push(line);
        try {
          const msg = JSON.parse(line) as { event?: string; port?: number };
          if (msg.event === 'listening' && typeof msg.port === 'number') resolve(msg.port);
        } catch {
          /* a log line */
        }
      });
    });
    child.removeAllListeners('exit');
    return { child, port: bound };
  };
  const first = await spawnOnce(fixedPort);
  let child = first.child;
  const port = first.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    output,
    get pid() {
      return child.pid ?? 0;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited(child);
      dir.cleanup();
    },
    async kill() {
      child.kill('SIGKILL');
      await exited(child);
    },
    async restart() {
      ({ child } = await spawnOnce(port));
    },
  };
}
