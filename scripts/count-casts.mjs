#!/usr/bin/env node
// Counts type casts in src/ on the TypeScript syntax tree: every `x as T` except `as const`, and every
// `<T>x` type assertion. Prints the total and the files with the most casts.
// Usage: node scripts/count-casts.mjs [--top N] [--all] [dir or file...]   (default: src)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const args = process.argv.slice(2);
let top = 20;
let listAll = false;
const dirs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--top') top = Number(args[++i]);
  else if (args[i] === '--all') listAll = true;
  else dirs.push(args[i]);
}
if (dirs.length === 0) dirs.push('src');

function* files(dir) {
  if (!statSync(dir).isDirectory()) {
    yield dir;
    return;
  }
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (/\.(ts|tsx|mts|cts)$/.test(name) && !name.endsWith('.d.ts')) yield path;
  }
}

function isAsConst(node) {
  const t = node.type;
  return ts.isTypeReferenceNode(t) && ts.isIdentifier(t.typeName) && t.typeName.text === 'const';
}

const counts = [];
let total = 0;
for (const dir of dirs) {
  for (const path of files(dir)) {
    const text = readFileSync(path, 'utf8');
    const kind = path.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
    const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, kind);
    let n = 0;
    const lines = [];
    const visit = (node) => {
      if ((ts.isAsExpression(node) && !isAsConst(node)) || ts.isTypeAssertionExpression(node)) {
        n++;
        if (listAll) lines.push(sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
    if (n > 0) counts.push({ path: relative(process.cwd(), path), n, lines });
    total += n;
  }
}
counts.sort((a, b) => b.n - a.n || a.path.localeCompare(b.path));
const tsxCasts = counts.filter((c) => c.path.endsWith('.tsx')).reduce((sum, c) => sum + c.n, 0);
console.log(`casts: ${total} in ${counts.length} files (${total - tsxCasts} in .ts, ${tsxCasts} in .tsx)`);
for (const c of listAll ? counts : counts.slice(0, top)) {
  console.log(`${String(c.n).padStart(5)}  ${c.path}${listAll ? `  (lines ${c.lines.join(', ')})` : ''}`);
}
