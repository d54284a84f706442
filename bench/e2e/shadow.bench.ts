// What traffic shadowing (SPEC A16) costs clients: two Miroir processes over the same three stub nodes, one with
// `shadow` off and one teeing searches to a fourth stub node (another process) at `BENCH_SHADOW_RATE` (default the
// SPEC default 0.05; run with 1 for the worst case). Per side: a background load of `BENCH_LOAD_RPS` searches/s
// (default 300) from a load process of its own, both sides loaded at once, while a third process sends 1,000
// sequential searches to each side taking turns (so both are measured under the same conditions on a shared box);
// client p50 and p99. BENCH_ROUNDS rounds (default 5), the side asked first alternating; the ratio on ÷ off of the
// median p50s is the result (goal ≤ 1.05). Writes bench/results/shadow.json. Run after `npm run build`:
// `node dist/bench/e2e/shadow.bench.js`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { forkLoadGen, type Target } from './loadgen.js';
import { forkBenchProxy, type ProxyProcess } from './proxy.js';
import { forkStubs, STUB_INDEX } from './stubs.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const RATE = Number(process.env.BENCH_SHADOW_RATE ?? 0.05);
const LOAD_RPS = Number(process.env.BENCH_LOAD_RPS ?? 300);
const SEQUENTIAL = 1000;
const MASTER = 'shadow-bench-master-key-01';
const target = (url: string): Target => ({
  url,
  path: `/indexes/${STUB_INDEX}/search`,
  body: '{"q":"quick","limit":20}',
  headers: { authorization: `Bearer ${MASTER}` },
});

const median = (xs: readonly number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const round3 = (v: number) => Math.round(v * 1000) / 1000;

async function shadowTargets(p: ProxyProcess): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${p.url}/_miroir/shadow/targets`, { headers: { authorization: 'Bearer bench-admin-key' } });
  return ((await res.json()) as { targets: Array<Record<string, unknown>> }).targets;
}

async function main(): Promise<void> {
  const stubs = await forkStubs(3);
  const shadowStub = await forkStubs(1);
  const fg = await forkLoadGen();
  const bgOff = await forkLoadGen();
  const bgOn = await forkLoadGen();
  const procs: ProxyProcess[] = [];
  try {
    const off = await forkBenchProxy(stubs.addresses, MASTER, STUB_INDEX);
    procs.push(off);
    const on = await forkBenchProxy(stubs.addresses, MASTER, STUB_INDEX, {
      shadow: {
        enabled: true,
        targets: [
          { name: 'stub', url: shadowStub.addresses[0], api_key_env: null, sample_rate: RATE, operations: ['search'] },
        ],
      },
    });
    procs.push(on);
    const sides = [
      { key: 'off', proc: off, p50: [] as number[], p99: [] as number[] },
      { key: 'on', proc: on, p50: [] as number[], p99: [] as number[] },
    ];
    for (const s of sides) await fg.seq([target(s.proc.url)], 300); // warm-up
    let loadErrors = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      // The background load runs longer than the sequential measure needs, so every measured request is loaded.
      const loads = [bgOff.rate(target(off.url), LOAD_RPS, 8000), bgOn.rate(target(on.url), LOAD_RPS, 8000)];
      const lats = await fg.seq(
        order.map((s) => target(s.proc.url)),
        SEQUENTIAL,
      );
      for (const done of await Promise.all(loads)) loadErrors += done.errors;
      order.forEach((s, i) => {
        s.p50.push(pct(lats[i]!, 50));
        s.p99.push(pct(lats[i]!, 99));
      });
    }
    const [offSide, onSide] = sides as [(typeof sides)[0], (typeof sides)[0]];
    const ratio = median(onSide.p50) / median(offSide.p50);
    const tee = (await shadowTargets(on))[0]!;
    const result = {
      bench: 'shadow',
      rounds: ROUNDS,
      sample_rate: RATE,
      background_rps: LOAD_RPS,
      sequential_per_round: SEQUENTIAL,
      off: {
        p50_ms: round3(median(offSide.p50)),
        p99_ms: round3(median(offSide.p99)),
        p50_rounds: offSide.p50.map(round3),
      },
      on: {
        p50_ms: round3(median(onSide.p50)),
        p99_ms: round3(median(onSide.p99)),
        p50_rounds: onSide.p50.map(round3),
      },
      p50_ratio_on_over_off: round3(ratio),
      goal: '≤ 1.05',
      teed: { sent: tee.sent, shed: tee.shed },
      load_errors: loadErrors,
      at: new Date().toISOString(),
    };
    console.log(JSON.stringify(result, null, 2));
    const dir = new URL('../results/', import.meta.url).pathname.replace('/dist/bench/', '/bench/');
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}shadow${RATE === 0.05 ? '' : `-${RATE}`}.json`, JSON.stringify(result, null, 2) + '\n');
  } finally {
    for (const p of procs) await p.stop();
    await fg.close();
    await bgOff.close();
    await bgOn.close();
    await shadowStub.stop();
    await stubs.stop();
  }
}

await main();
