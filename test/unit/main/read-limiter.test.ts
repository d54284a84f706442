// The integrity passes' ReadLimiter (src/main/integrity/node-reads.ts): never more reads in flight than allowed, even
// when newcomers arrive as reads finish, and no more started per second than the rate.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReadLimiter } from '../../../src/main/integrity/node-reads.js';

test('concurrency bound holds under churn', async () => {
  const limiter = new ReadLimiter(2, 0);
  let active = 0;
  let peak = 0;
  const read = () =>
    limiter.run(async () => {
      active++;
      peak = Math.max(peak, active);
      await new Promise((r) => setTimeout(r, Math.random() * 5));
      active--;
    });
  const all: Array<Promise<void>> = [];
  for (let i = 0; i < 40; i++) {
    all.push(read());
    if (i % 5 === 0) await new Promise((r) => setTimeout(r, 2));
  }
  await Promise.all(all);
  assert.equal(peak, 2);
});

test('rate bound: 10 reads at 50 per second take at least ~180 ms', async () => {
  const limiter = new ReadLimiter(4, 50);
  const t = performance.now();
  await Promise.all(Array.from({ length: 10 }, () => limiter.run(async () => undefined)));
  assert.ok(performance.now() - t >= 170, `${performance.now() - t} ms`);
});
