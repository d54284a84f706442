// Dockerfile.musl, read as a Dockerfile: its stages and base images, every build-context path it copies (present
// in the repo, not dropped by .dockerignore), and a runtime stage that matches the code: non-root, the config's
// ports, /health, the compiled CLI of package.json `bin`, and the addon where native/index.ts loads it.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { test } from 'node:test';
import { addonPath } from '../../../native/index.js';
import { configSchema } from '../../../src/main/config/schema.js';
import { ROOT, readText, readYaml, type JsonObject } from './support.js';

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  image: string;
  name: string | null;
  instructions: Instruction[];
}

/** Splits a Dockerfile into instructions (comments dropped, `\` continuations joined) grouped by stage. */
function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (pending === '' && (line === '' || line.startsWith('#'))) continue;
    if (pending !== '' && line.startsWith('#')) continue;
    if (line.endsWith('\\')) {
      pending += line.slice(0, -1) + ' ';
      continue;
    }
    const full = (pending + line).trim();
    pending = '';
    const m = /^(\S+)\s+(.*)$/s.exec(full);
    assert.ok(m, `unparseable line: ${full}`);
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (op === 'FROM') {
      const f = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      assert.ok(f, `FROM ${args}`);
      stages.push({ image: f[1]!, name: f[2] ?? null, instructions: [] });
    } else {
      assert.ok(stages.length > 0, `${op} before FROM`);
      stages.at(-1)!.instructions.push({ op, args });
    }
  }
  return stages;
}

/** COPY/ADD arguments: flags (--from=, --chown=) and paths, shell or JSON form. */
function copyArgs(args: string): { flags: Record<string, string>; sources: string[]; dest: string } {
  const words = args.startsWith('[') ? (JSON.parse(args) as string[]) : args.split(/\s+/);
  const flags: Record<string, string> = {};
  const paths: string[] = [];
  for (const w of words) {
    const f = /^--([a-z-]+)=(.*)$/.exec(w);
    if (f && paths.length === 0) flags[f[1]!] = f[2]!;
    else paths.push(w);
  }
  assert.ok(paths.length >= 2, `COPY ${args}`);
  return { flags, sources: paths.slice(0, -1), dest: paths.at(-1)! };
}

function execForm(args: string): string[] {
  const v = JSON.parse(args) as unknown;
  assert.ok(Array.isArray(v) && v.every((x) => typeof x === 'string'), `exec form expected: ${args}`);
  return v as string[];
}

/** .dockerignore patterns (Docker's rules: root-relative, `*` within a segment, `**` across, `!` re-includes). */
function dockerignore(): (path: string) => boolean {
  const rules = readText('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pat = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, ''));
      const re = pat
        .split('**')
        .map((part) =>
          part
            .replace(/[.+^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '[^/]*')
            .replace(/\?/g, '[^/]'),
        )
        .join('.*');
      return { negate, re: new RegExp(`^${re}(/.*)?$`) };
    });
  return (path) => {
    let excluded = false;
    for (const r of rules) if (r.re.test(path)) excluded = !r.negate;
    return excluded;
  };
}

function filesUnder(dir: string): string[] {
  const abs = join(ROOT, dir);
  if (!statSync(abs).isDirectory()) return [dir];
  return readdirSync(abs).flatMap((f) => filesUnder(posix.join(dir, f)));
}

function resolveIn(workdir: string, p: string): string {
  return posix.isAbsolute(p) ? posix.normalize(p) : posix.join(workdir, p);
}

const stages = parseDockerfile(readText('Dockerfile.musl'));
const final = stages.at(-1)!;
const lastOf = (stage: Stage, op: string) => stage.instructions.filter((i) => i.op === op).at(-1);
const workdirOf = (stage: Stage) => lastOf(stage, 'WORKDIR')?.args ?? '/';

test('three or more stages: a Rust Alpine stage for the addon, then Node Alpine stages', () => {
  assert.ok(stages.length >= 3, `${stages.length} stages`);
  const rust = stages.filter((s) => /^rust:[^ ]*alpine/.test(s.image));
  assert.equal(rust.length, 1, stages.map((s) => s.image).join(', '));
  assert.ok(
    rust[0]!.instructions.some((i) => i.op === 'RUN' && /cargo build --release/.test(i.args)),
    'the rust stage runs cargo build --release',
  );
  const nodeStages = stages.filter((s) => s.image.startsWith('node:'));
  assert.ok(nodeStages.length >= 2);
  const engines = JSON.parse(readText('package.json')) as { engines: { node: string } };
  const minMajor = Number(/(\d+)/.exec(engines.engines.node)![1]);
  for (const s of nodeStages) {
    assert.match(s.image, /^node:\d+-alpine/, s.image);
    const major = Number(/^node:(\d+)/.exec(s.image)![1]);
    assert.ok(
      major >= minMajor && major % 2 === 0,
      `${s.image}: an LTS line at or above engines.node ${engines.engines.node}`,
    );
  }
  assert.ok(final.image.startsWith('node:'), 'the runtime is a Node Alpine image');
  const names = stages.map((s) => s.name).filter((n) => n !== null);
  assert.equal(new Set(names).size, names.length, 'stage names are unique');
});

test('the build stage installs, compiles and drops dev dependencies', () => {
  const build = stages.find((s) => s.name === 'build');
  assert.ok(build);
  const runs = build.instructions
    .filter((i) => i.op === 'RUN')
    .map((i) => i.args)
    .join(' && ');
  const order = ['npm ci', 'npm run build', 'npm prune --omit=dev'].map((c) => runs.indexOf(c));
  assert.ok(
    order.every((i) => i >= 0),
    runs,
  );
  assert.deepEqual(
    [...order].sort((a, b) => a - b),
    order,
    'npm ci, then build, then prune',
  );
});

test('every COPY from the build context names a path in the repo that .dockerignore keeps', () => {
  const ignored = dockerignore();
  let copies = 0;
  for (const stage of stages) {
    for (const ins of stage.instructions.filter((i) => i.op === 'COPY' || i.op === 'ADD')) {
      const { flags, sources } = copyArgs(ins.args);
      if (flags['from'] !== undefined) continue;
      for (const src of sources) {
        copies++;
        const rel = posix.normalize(src.replace(/^\.\//, ''));
        assert.ok(!rel.startsWith('..') && !posix.isAbsolute(rel), `${src} is outside the context`);
        assert.ok(existsSync(join(ROOT, rel)), `COPY ${src}: not in the repository`);
        assert.ok(!ignored(rel), `COPY ${src}: excluded by .dockerignore`);
        const dropped = filesUnder(rel).filter(ignored);
        assert.deepEqual(dropped, [], `COPY ${src}: .dockerignore drops files the build copies`);
      }
    }
  }
  assert.ok(copies >= 6, `${copies} context paths copied`);
  for (const needed of [
    'package.json',
    'package-lock.json',
    'tsconfig.json',
    'src',
    'scripts',
    'native/Cargo.toml',
    'native/src',
  ]) {
    const all = stages.flatMap((s) =>
      s.instructions
        .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
        .flatMap((i) => copyArgs(i.args).sources),
    );
    assert.ok(
      all.some((s) => posix.normalize(s.replace(/^\.\//, '')) === needed),
      `${needed} is copied into the build`,
    );
  }
  // What the build leaves behind must not leak in from a developer's tree.
  for (const p of ['node_modules', 'dist', 'native/target', 'native/miroir.node', '.git'])
    assert.ok(ignored(p), `.dockerignore drops ${p}`);
});

test('--from= copies name earlier stages and the addon lands where native/index.ts loads it', () => {
  const names = new Set<string>();
  for (const stage of stages) {
    for (const ins of stage.instructions.filter((i) => i.op === 'COPY')) {
      const from = copyArgs(ins.args).flags['from'];
      if (from !== undefined) assert.ok(names.has(from), `COPY --from=${from} before that stage`);
    }
    if (stage.name !== null) names.add(stage.name);
  }
  const cargo = readText('native', 'Cargo.toml');
  const crate = /^\[package\][^[]*?^name\s*=\s*"([^"]+)"/ms.exec(cargo)![1]!.replace(/-/g, '_');
  assert.match(cargo, /crate-type\s*=\s*\[[^\]]*"cdylib"/, 'the addon is a cdylib');
  const rust = stages.find((s) => s.image.startsWith('rust:'))!;
  const built = rust.instructions
    .filter((i) => i.op === 'RUN')
    .map((i) => i.args)
    .join(' ');
  assert.ok(built.includes(`target/release/lib${crate}.so`), `the rust stage picks up lib${crate}.so`);
  assert.ok(
    rust.instructions.some((i) => i.op === 'ENV' && /-crt-static/.test(i.args)),
    'musl links dynamically so a cdylib can be built',
  );
  const addonCopy = final.instructions.find((i) => i.op === 'COPY' && copyArgs(i.args).flags['from'] === rust.name);
  assert.ok(addonCopy, 'the runtime copies the addon from the rust stage');
  const expected = posix.join(workdirOf(final), relative(ROOT, addonPath()).split('\\').join('/'));
  assert.equal(resolveIn(workdirOf(final), copyArgs(addonCopy.args).dest), expected);
});

test('the runtime stage: non-root USER, the config ports exposed, a HEALTHCHECK on /health', () => {
  const user = lastOf(final, 'USER')?.args;
  assert.ok(user !== undefined, 'USER is set');
  const uid = user.split(':')[0]!;
  assert.ok(uid !== 'root' && uid !== '0', `USER ${user}`);
  const values = readYaml('charts', 'miroir', 'values.yaml') as JsonObject;
  assert.equal(
    String((values['podSecurityContext'] as JsonObject)['runAsUser']),
    uid,
    'the chart runs as the image user',
  );

  const defaults = configSchema.parse({});
  const exposed = final.instructions
    .filter((i) => i.op === 'EXPOSE')
    .flatMap((i) => i.args.split(/\s+/))
    .map((p) => Number(p.split('/')[0]));
  assert.ok(exposed.includes(7700) && exposed.includes(9090), `EXPOSE ${exposed.join(' ')}`);
  assert.ok(
    exposed.includes(defaults.server.port) && exposed.includes(defaults.metrics.port),
    'EXPOSE follows the config defaults',
  );

  const health = lastOf(final, 'HEALTHCHECK')?.args;
  assert.ok(health !== undefined, 'HEALTHCHECK is set');
  assert.match(health, /CMD\s/);
  assert.match(health, new RegExp(`http://127\\.0\\.0\\.1:${defaults.server.port}/health\\b`));
});

test('ENTRYPOINT runs the compiled CLI of package.json bin, CMD serves /etc/miroir/config.yaml', () => {
  const entry = execForm(lastOf(final, 'ENTRYPOINT')!.args);
  assert.equal(entry[0], 'node');
  const script = entry[1]!;
  const app = workdirOf(final);
  assert.ok(script.startsWith(app + '/'), `${script} lies in WORKDIR ${app}`);
  const inImage = posix.relative(app, script);
  const pkg = JSON.parse(readText('package.json')) as { bin: Record<string, string> };
  assert.equal(inImage, posix.normalize(pkg.bin['miroir']!), 'the same file as package.json bin.miroir');
  // tsc maps <rootDir>/X.ts to <outDir>/X.js: the entrypoint must come from a source file.
  const tsconfig = JSON.parse(readText('tsconfig.json')) as { compilerOptions: { rootDir: string; outDir: string } };
  const outDir = posix.normalize(tsconfig.compilerOptions.outDir);
  assert.ok(inImage.startsWith(outDir + '/'));
  const source = posix.join(tsconfig.compilerOptions.rootDir, inImage.slice(outDir.length + 1).replace(/\.js$/, '.ts'));
  assert.equal(posix.normalize(source), 'src/main/cli.ts');
  assert.ok(existsSync(join(ROOT, source)), `${source} exists`);
  const build = stages.find((s) => s.name === 'build')!;
  assert.ok(
    final.instructions.some(
      (i) =>
        i.op === 'COPY' &&
        copyArgs(i.args).flags['from'] === build.name &&
        resolveIn(app, copyArgs(i.args).dest) === posix.join(app, outDir),
    ),
    `${outDir}/ is copied into ${app}`,
  );
  assert.ok(
    final.instructions.some(
      (i) => i.op === 'COPY' && resolveIn(app, copyArgs(i.args).dest) === posix.join(app, 'node_modules'),
    ),
    'node_modules is copied',
  );

  const cmd = execForm(lastOf(final, 'CMD')!.args);
  assert.deepEqual(cmd, ['serve', '--config', '/etc/miroir/config.yaml']);
  const cli = readText('src', 'main', 'commands', 'serve.ts');
  assert.match(cli, /new Command\('serve'\)/);
  assert.match(cli, /--config <file>/);
});

test('the runtime imports only production dependencies (the image runs after npm prune --omit=dev)', () => {
  const pkg = JSON.parse(readText('package.json')) as {
    dependencies: Record<string, string>;
    devDependencies: Record<string, string>;
  };
  const walk = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? walk(posix.join(dir, e.name)) : e.name.endsWith('.ts') ? [posix.join(dir, e.name)] : [],
    );
  // src/ui holds browser code bundled at build time (scripts/build-ui.mjs); the image serves the bundle, not those imports.
  const files = [...walk('src').filter((f) => !f.startsWith('src/ui/')), 'native/index.ts'];
  const imported = new Set<string>();
  for (const file of files) {
    for (const m of readText(file).matchAll(
      /\b(?:from|import\()\s*'((?:@[a-z0-9-]+\/)?[a-z0-9][a-z0-9._-]*(?:\/[^']*)?|node:[a-z/_]+)'/g,
    )) {
      const spec = m[1]!;
      if (spec.startsWith('node:')) continue;
      imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
    }
  }
  assert.ok(imported.has('zod') && imported.has('undici') && imported.has('lmdb'), [...imported].join(', '));
  for (const name of imported)
    assert.ok(
      name in pkg.dependencies,
      `src imports ${name}, which is not in dependencies${name in pkg.devDependencies ? ' (only devDependencies: npm prune --omit=dev drops it from the image)' : ''}`,
    );
});

test('README documents the multi-arch build command', () => {
  const readme = readText('README.md');
  assert.ok(
    readme.includes('docker buildx build --platform linux/amd64,linux/arm64 -f Dockerfile.musl -t miroir:latest .'),
  );
  assert.match(readme, /^## Container image and Helm chart$/m);
});
