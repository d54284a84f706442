#!/usr/bin/env node
// The one `miroir` executable: subcommands live in ./commands (devnode now; serve, dev and ctl as they are built).
import { Command } from 'commander';
import { devnodeCommand } from './commands/devnode.js';

const program = new Command('miroir')
  .description('Sharding and high-availability layer for Meilisearch Community Edition')
  .version('0.1.0')
  .addCommand(devnodeCommand());

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`miroir: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
