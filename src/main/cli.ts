#!/usr/bin/env node
// The one `miroir` executable: subcommands live in ./commands (serve, dev, devnode, ctl).
import { Command } from 'commander';
import { CtlError, ctlCommand } from './commands/ctl.js';
import { devCommand } from './commands/dev.js';
import { devnodeCommand } from './commands/devnode.js';
import { serveCommand } from './commands/serve.js';

const program = new Command('miroir')
  .description('Sharding and high-availability layer for Meilisearch Community Edition')
  .version('0.1.0')
  .addCommand(serveCommand())
  .addCommand(devCommand())
  .addCommand(devnodeCommand())
  .addCommand(ctlCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(
    `miroir${err instanceof CtlError ? ' ctl' : ''}: ${err instanceof Error ? err.message : String(err)}\n`,
  );
  process.exit(1);
});
