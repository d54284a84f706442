#!/usr/bin/env python3
"""Regenerates src/core/meili-error-codes.ts from shared/meili-error-codes.tsv (code, type, status)."""
import pathlib, sys
root = pathlib.Path(__file__).resolve().parent.parent
tsv = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else root.parent / 'shared' / 'meili-error-codes.tsv'
rows = [l.rstrip('\n').split('\t') for l in tsv.read_text().splitlines() if l.strip()]
out = ["// Every Meilisearch v1.50 error code with its type and HTTP status (generated from shared/meili-error-codes.tsv",
       "// by scripts/gen-error-codes.py; do not edit by hand). Miroir's own codes live in errors.ts.",
       "export const MEILI_ERROR_CODES = Object.freeze({"]
out += [f"  {code}: ['{typ}', {status}]," for code, typ, status in rows]
out += ["} as const satisfies Record<string, readonly [string, number]>);", "", "export type MeiliErrorCode = keyof typeof MEILI_ERROR_CODES;"]
(root / 'src' / 'core' / 'meili-error-codes.ts').write_text('\n'.join(out) + '\n')
