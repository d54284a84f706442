// `miroir serve --config FILE`: loads and validates the config (refusing bad keys by name), starts Miroir, and
// shuts down gracefully on SIGTERM/SIGINT (stop accepting, drain in-flight requests, close pools and the store).
import { Command } from 'commander';
import { startMiroir } from '../app.js';
import { ConfigError, loadConfigFile } from '../config/load.js';

export function onShutdownSignal(stop: () => Promise<void>): void {
  let stopping = false;
  const handler = () => {
    if (stopping) return;
    stopping = true;
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        process.stderr.write(`miroir: shutdown failed: ${String(err)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the Miroir proxy from a YAML config')
    .requiredOption('--config <file>', 'YAML config file (see docs/configuration.md)')
    .action(async (opts: { config: string }) => {
      let cfg;
      try {
        cfg = loadConfigFile(opts.config);
      } catch (err) {
        if (err instanceof ConfigError) {
          process.stderr.write(`${err.message}\n`);
          process.exit(2);
        }
        throw err;
      }
      let app;
      try {
        app = await startMiroir(cfg);
      } catch (err) {
        // The store cannot be reached or refuses us (a wrong password, a certificate): one clear line, no stack.
        if (err instanceof Error && err.name === 'StoreUnavailableError') {
          process.stderr.write(`miroir: cannot start: ${err.message}\n`);
          process.exit(1);
        }
        throw err;
      }
      process.stdout.write(
        JSON.stringify({
          event: 'listening',
          service: 'miroir',
          port: app.port,
          metrics_port: app.metricsPort,
          url: app.url,
        }) + '\n',
      );
      onShutdownSignal(() => app.close());
    });
}
