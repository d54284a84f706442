import assert from 'node:assert/strict';
import { test } from 'node:test';
import { every } from '../../../src/main/util/periodic.js';
import { until } from '../../support/wait.js';

test('runs again after each run settles, never two at once; errors are reported and the loop goes on; stop waits for the run in flight', async () => {
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  const errors: unknown[] = [];
  let release: (() => void) | null = null;
  const loop = every(
    1,
    async () => {
      running++;
      maxRunning = Math.max(maxRunning, running);
      runs++;
      try {
        if (runs === 2) throw new Error('boom');
        if (runs === 5) await new Promise<void>((r) => (release = r));
      } finally {
        running--;
      }
    },
    { firstAfterMs: 0, onError: (err) => errors.push(err) },
  );
  await until(() => release !== null, 'the fifth run to block');
  let stopped = false;
  const stopping = loop.stop().then(() => (stopped = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(stopped, false, 'stop waits for the run in flight');
  release!();
  await stopping;
  assert.equal(runs, 5, 'no run after stop');
  assert.equal(maxRunning, 1);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /boom/);
});
