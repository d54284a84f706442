// External binaries the tests (and benches) use, found on PATH. `requireBinary` is the one rule for a test that
// needs one: present → it runs; missing → it skips with one line naming the Debian package to install, except
// under CI (`CI` set, not "false"/"0"), where a missing binary fails the file: CI must install what the suite uses.
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** The path of executable `name` on PATH (then in `extraDirs`), or null. */
export function findBinary(name: string, extraDirs: readonly string[] = []): string | null {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...extraDirs]) {
    if (dir === '') continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      /* not here */
    }
  }
  return null;
}

export function underCi(): boolean {
  const ci = process.env.CI;
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0';
}

/**
 * For node:test's `skip` option of the suite that needs `name`: false when it is on PATH, else the skip line
 * (`redis-server not found: apt-get install redis-server`). Under CI a missing binary throws instead.
 */
export function requireBinary(name: string, debianPackage: string): false | string {
  if (findBinary(name) !== null) return false;
  const line = `${name} not found: apt-get install ${debianPackage}`;
  if (underCi())
    throw new Error(`${line} (CI is set, so every test must run: .ci/run installs the binaries the suite uses)`);
  return line;
}
