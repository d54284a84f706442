// `miroir devnode`: runs one Meilisearch-compatible dev node until SIGINT/SIGTERM. Prints one JSON line with the
// bound port once it listens (tests and `miroir dev` read it).
import { Command, InvalidArgumentError } from 'commander';
import { DevNode } from '../../devnode/node.js';

function int(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return Number(v);
  };
}

export function devnodeCommand(): Command {
  return new Command('devnode')
    .description('run one Meilisearch-compatible dev node (for tests, benchmarks and miroir dev)')
    .option('--port <port>', 'port to listen on (0 = any free port)', int('--port'), 7700)
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--master-key <key>', 'master key (enables API keys and auth)')
    .option('--data <dir>', 'persist indexes, documents, settings, keys and tasks in this directory (LMDB)')
    .option(
      '--dump-dir <dir>',
      'where POST /dumps writes {dumpUid}.dump (default: dumps/ under --data, else a temporary directory)',
    )
    .option('--import-dump <file>', 'load this Meilisearch v6 .dump at start (the node must be empty)')
    .option('--fault-delay-ms <ms>', 'delay every answer by this many milliseconds', int('--fault-delay-ms'), 0)
    .option('--max-body-bytes <bytes>', 'largest accepted request body', int('--max-body-bytes'), 104857600)
    .action(
      async (opts: {
        port: number;
        host: string;
        masterKey?: string;
        data?: string;
        dumpDir?: string;
        importDump?: string;
        faultDelayMs: number;
        maxBodyBytes: number;
      }) => {
        const node = await DevNode.start({
          port: opts.port,
          host: opts.host,
          masterKey: opts.masterKey ?? null,
          dataDir: opts.data ?? null,
          dumpDir: opts.dumpDir ?? null,
          importDump: opts.importDump ?? null,
          faultDelayMs: opts.faultDelayMs,
          maxBodyBytes: opts.maxBodyBytes,
        });
        process.stdout.write(
          JSON.stringify({ event: 'listening', service: 'devnode', port: node.port, url: node.url }) + '\n',
        );
        let stopping = false;
        const stop = () => {
          if (stopping) return;
          stopping = true;
          void node.stop().then(() => process.exit(0));
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      },
    );
}
