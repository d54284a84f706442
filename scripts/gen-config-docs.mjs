#!/usr/bin/env node
// Rewrites docs/configuration.md from the compiled config schema (run `npm run build` first).
import { writeFileSync } from 'node:fs';
const { renderConfigReference } = await import('../dist/src/main/config/reference.js');
writeFileSync(new URL('../docs/configuration.md', import.meta.url), renderConfigReference());
