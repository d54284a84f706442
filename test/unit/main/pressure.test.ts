// H4 pressure metrics: the memory pressure thresholds, cgroup v1/v2 parsing (from fake cgroup trees), and a
// fresh Registry exposing all seven metric names with the values their sources give at scrape time.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Registry } from 'prom-client';
import {
  memoryPressureLevel,
  parseCgroupMemoryLimit,
  parseThrottledSeconds,
  readMemoryLimit,
  readThrottledSeconds,
  registerPressureMetrics,
} from '../../../src/main/observability/pressure.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function cgroupTree(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'miroir-cgroup-'));
  dirs.push(root);
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

const GiB = 1024 ** 3;

test('memoryPressureLevel: 0 up to 75%, 1 above 75%, 2 above 90%', () => {
  assert.equal(memoryPressureLevel(0, 100), 0);
  assert.equal(memoryPressureLevel(75, 100), 0);
  assert.equal(memoryPressureLevel(76, 100), 1);
  assert.equal(memoryPressureLevel(90, 100), 1);
  assert.equal(memoryPressureLevel(91, 100), 2);
  assert.equal(memoryPressureLevel(150, 100), 2);
  assert.equal(memoryPressureLevel(50, 0), 0, 'no limit known: no pressure');
  assert.equal(memoryPressureLevel(50, Number.NaN), 0);
});

test('cgroup parsing: memory limits and throttled time in v1 and v2 formats', () => {
  assert.equal(parseCgroupMemoryLimit('3758096384\n'), 3758096384);
  assert.equal(parseCgroupMemoryLimit('max\n'), null);
  assert.equal(parseCgroupMemoryLimit(''), null);
  assert.equal(parseThrottledSeconds('usage_usec 10\nnr_throttled 3\nthrottled_usec 2500000\n'), 2.5);
  assert.equal(parseThrottledSeconds('nr_periods 9\nnr_throttled 1\nthrottled_time 1500000000\n'), 1.5);
  assert.equal(parseThrottledSeconds('usage_usec 10\n'), null);
});

test('reading limits: v2 memory.max, v1 limit_in_bytes, unlimited and missing fall back to physical memory', async () => {
  assert.equal(await readMemoryLimit(cgroupTree({ 'memory.max': `${3 * GiB}\n` }), 16 * GiB), 3 * GiB);
  assert.equal(
    await readMemoryLimit(cgroupTree({ 'memory/memory.limit_in_bytes': `${2 * GiB}\n` }), 16 * GiB),
    2 * GiB,
  );
  assert.equal(
    await readMemoryLimit(cgroupTree({ 'memory/memory.limit_in_bytes': '9223372036854771712\n' }), 16 * GiB),
    16 * GiB,
  );
  assert.equal(await readMemoryLimit(cgroupTree({ 'memory.max': 'max\n' }), 16 * GiB), 16 * GiB);
  assert.equal(await readMemoryLimit(cgroupTree({}), 16 * GiB), 16 * GiB);
  assert.equal(await readThrottledSeconds(cgroupTree({ 'cpu.stat': 'throttled_usec 4000000\n' })), 4);
  assert.equal(
    await readThrottledSeconds(
      cgroupTree({ 'cpu.stat': 'usage_usec 1\n', 'cpu/cpu.stat': 'throttled_time 2000000000\n' }),
    ),
    2,
  );
  assert.equal(await readThrottledSeconds(cgroupTree({ 'cpu,cpuacct/cpu.stat': 'throttled_time 3000000000\n' })), 3);
  assert.equal(await readThrottledSeconds(cgroupTree({})), 0);
});

function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

test('a fresh Registry exposes all seven metrics with values from their sources at scrape time', async () => {
  const root = cgroupTree({ 'memory.max': `${1000}\n`, 'cpu.stat': 'throttled_usec 1500000\n' });
  let rss = 800;
  let queue = 7;
  let background: Record<string, number> = { dump_import: 3, reshard_backfill: 1 };
  const registry = new Registry();
  const m = registerPressureMetrics(registry, {
    cgroupRoot: root,
    rss: () => rss,
    physicalMemory: () => 16 * GiB,
    queueDepth: () => queue,
    backgroundDepth: async () => background,
  });
  m.peerPodCount.set(3);
  m.leader.labels('rebalancer').set(1);
  m.ownedShardsCount.set(21);

  let text = await registry.metrics();
  for (const name of [
    'miroir_memory_pressure',
    'miroir_cpu_throttled_seconds_total',
    'miroir_request_queue_depth',
    'miroir_background_queue_depth',
    'miroir_peer_pod_count',
    'miroir_leader',
    'miroir_owned_shards_count',
  ]) {
    assert.ok(text.includes(`# TYPE ${name} `), `${name} is exposed`);
  }
  assert.equal(sample(text, 'miroir_memory_pressure'), 1);
  assert.equal(sample(text, 'miroir_cpu_throttled_seconds_total'), 1.5);
  assert.equal(sample(text, 'miroir_request_queue_depth'), 7);
  assert.equal(sample(text, 'miroir_background_queue_depth{job_type="dump_import"}'), 3);
  assert.equal(sample(text, 'miroir_background_queue_depth{job_type="reshard_backfill"}'), 1);
  assert.equal(sample(text, 'miroir_peer_pod_count'), 3);
  assert.equal(sample(text, 'miroir_leader{scope="rebalancer"}'), 1);
  assert.equal(sample(text, 'miroir_owned_shards_count'), 21);

  rss = 950;
  queue = 0;
  background = { dump_import: 5 };
  writeFileSync(join(root, 'cpu.stat'), 'throttled_usec 4000000\n');
  text = await registry.metrics();
  assert.equal(sample(text, 'miroir_memory_pressure'), 2);
  assert.equal(sample(text, 'miroir_cpu_throttled_seconds_total'), 4);
  assert.equal(sample(text, 'miroir_request_queue_depth'), 0);
  assert.equal(sample(text, 'miroir_background_queue_depth{job_type="dump_import"}'), 5);
  assert.equal(
    sample(text, 'miroir_background_queue_depth{job_type="reshard_backfill"}'),
    0,
    'a drained job type reads 0',
  );

  const failing = new Registry();
  registerPressureMetrics(failing, {
    cgroupRoot: root,
    backgroundDepth: () => {
      throw new Error('store down');
    },
    queueDepth: () => {
      throw new Error('x');
    },
  });
  assert.match(await failing.metrics(), /miroir_background_queue_depth/, 'a failing source does not fail the scrape');
});

test('without callbacks the queue gauges are plain gauges the caller sets', async () => {
  const registry = new Registry();
  const m = registerPressureMetrics(registry, { cgroupRoot: cgroupTree({}) });
  m.requestQueueDepth.set(4);
  m.backgroundQueueDepth.labels('dump_import').set(2);
  const text = await registry.metrics();
  assert.equal(sample(text, 'miroir_request_queue_depth'), 4);
  assert.equal(sample(text, 'miroir_background_queue_depth{job_type="dump_import"}'), 2);
  assert.equal(sample(text, 'miroir_cpu_throttled_seconds_total'), 0);
  assert.equal(sample(text, 'miroir_memory_pressure'), 0);
});
