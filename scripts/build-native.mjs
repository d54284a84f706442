#!/usr/bin/env node
// Builds the optional Rust Node-API addon (native/) when cargo is available; never fails the install.
// Without it Miroir uses the TypeScript implementations (same results). MIROIR_SKIP_NATIVE_BUILD=1 skips.
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const nativeDir = new URL('../native/', import.meta.url).pathname;
if (process.env.MIROIR_SKIP_NATIVE_BUILD === '1' || !existsSync(join(nativeDir, 'Cargo.toml'))) process.exit(0);
const probe = spawnSync('cargo', ['--version'], { stdio: 'ignore' });
if (probe.status !== 0) {
  console.log('miroir: cargo not found, using the TypeScript fallback for native paths');
  process.exit(0);
}
const build = spawnSync('cargo', ['build', '--release', '--offline'], {
  cwd: nativeDir,
  stdio: ['ignore', 'ignore', 'pipe'],
});
if (build.status !== 0) {
  console.log('miroir: native addon build failed, using the TypeScript fallback\n' + String(build.stderr).slice(-2000));
  process.exit(0);
}
const lib = ['libmiroir_native.so', 'libmiroir_native.dylib']
  .map((f) => join(nativeDir, 'target/release', f))
  .find(existsSync);
if (lib) copyFileSync(lib, join(nativeDir, 'miroir.node'));
process.exit(0);
