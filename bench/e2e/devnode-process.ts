// Starts a dev node in a child process for the end-to-end benches (its own event loop and heap, so its work never
// shows in the proxy's numbers): resolves once it logs the port it listens on.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const cli = join(dirname(fileURLToPath(import.meta.url)), '../../src/main/cli.js');

export interface DevNodeProcess {
  url: string;
  child: ChildProcess;
}

export async function startDevNodeProcess(masterKey: string | null, heapMb = 4096): Promise<DevNodeProcess> {
  const args = [`--max-old-space-size=${heapMb}`, cli, 'devnode', '--port', '0'];
  if (masterKey !== null) args.push('--master-key', masterKey);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`devnode exited with ${code}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; port?: number };
        if (msg.event === 'listening' && typeof msg.port === 'number') resolve(msg.port);
      } catch {
        /* another line */
      }
    });
  });
  child.removeAllListeners('exit');
  return { url: `http://127.0.0.1:${port}`, child };
}
