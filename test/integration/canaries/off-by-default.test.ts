// Round 2 "Defaults": with a config that does not enable them, canaries and the traffic shadow do not exist — their
// routes answer like any unknown route, no canary or shadow metric is registered, and searches are served by the
// route table's own handlers (nothing wrapped on the request path).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startCluster, type TestCluster } from '../../support/cluster.js';

let c: TestCluster;
before(async () => {
  c = await startCluster({ nodes: 1, shards: 2 });
});
after(async () => {
  await c?.close();
});

test('canary and shadow routes and metrics are absent unless enabled', async () => {
  assert.equal(c.config.canary_runner.enabled, false);
  assert.equal(c.config.shadow.enabled, false);
  for (const path of ['/_miroir/canaries', '/_miroir/canaries/status', '/_miroir/shadow/diff']) {
    const res = await fetch(`${c.app.url}${path}`, { headers: { authorization: `Bearer ${c.adminKey}` } });
    assert.equal(res.status, 404, path);
  }
  const metrics = await (await fetch(`http://127.0.0.1:${c.app.metricsPort}/metrics`)).text();
  assert.doesNotMatch(metrics, /miroir_canary_|miroir_shadow_/);
});
