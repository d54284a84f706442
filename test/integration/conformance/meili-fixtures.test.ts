// Golden fixtures: Meilisearch's own integration tests (test/fixtures/meili, requests and expected answers as data)
// replayed against one dev node and against Miroir over 3 dev nodes. Every case not listed in
// known-failures.json must pass; a listed case that passes is reported so the list can shrink.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { DevNode } from '../../../src/devnode/node.js';
import { startCluster, type TestCluster } from '../../support/cluster.js';
import {
  createDatasets,
  loadDatasets,
  loadFixtures,
  loadKnownFailures,
  runAll,
  type FixtureCase,
  type FreshTarget,
} from './replay.js';

const fixtures = loadFixtures();
const datasets = loadDatasets();
const known = loadKnownFailures();
const all: FixtureCase[] = fixtures.flatMap((f) => f.cases);

/** Replays every case on a target, then checks the results area by area against the known failures. */
function suite(name: 'devnode' | 'miroir', start: FreshTarget): void {
  describe(`Meilisearch fixtures on ${name === 'devnode' ? 'one dev node' : 'Miroir over 3 dev nodes'}`, () => {
    let stop: (() => Promise<void>) | null = null;
    let results = new Map<string, string | null>();
    before(async () => {
      const started = await start();
      stop = started.stop;
      await createDatasets(started.target, all, datasets);
      results = await runAll(started.target, all, 8, start);
    });
    after(async () => {
      await stop?.();
    });
    const listed = known[name];
    for (const f of fixtures) {
      test(`${f.area}: ${f.cases.length} cases`, () => {
        const failing: string[] = [];
        const fixed: string[] = [];
        let passed = 0;
        for (const c of f.cases) {
          const diff = results.get(c.source);
          if (diff === null) {
            passed++;
            if (listed[c.source] !== undefined) fixed.push(c.source);
          } else if (listed[c.source] === undefined) failing.push(`${c.source}\n    ${diff}`);
          else if (process.env.CONFORMANCE_VERBOSE) process.stdout.write(`known ${name} ${c.source}: ${diff}\n`);
        }
        process.stdout.write(`conformance ${name} ${f.area}: ${passed}/${f.cases.length} cases pass\n`);
        if (fixed.length > 0)
          process.stdout.write(
            `conformance ${name} ${f.area}: listed in known-failures.json but passing now: ${fixed.join(', ')}\n`,
          );
        assert.deepEqual(failing, [], `${failing.length} case(s) differ from Meilisearch:\n  ${failing.join('\n  ')}`);
      });
    }
  });
}

suite('devnode', async () => {
  const node = await DevNode.start({ port: 0 });
  return { target: { url: node.url, apiKey: null }, stop: () => node.stop() };
});

suite('miroir', async () => {
  const cluster: TestCluster = await startCluster({ nodes: 3 });
  return { target: { url: cluster.app.url, apiKey: cluster.masterKey }, stop: () => cluster.close() };
});
