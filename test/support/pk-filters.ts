// Seeded random documents and filters with primary-key terms, for the query planner's property tests: ids mix
// integers and strings that differ only in case, filters mix `id = x`, `id IN [...]`, ORs, ANDs, NOT and other
// fields, in both of Meilisearch's filter forms.
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface PkDoc {
  id: number | string;
  cat: string;
  n: number;
  title: string;
}

const STRING_IDS = ['ab', 'AB', 'aB', 'x-1', 'X-1', 'k_9', 'q', 'Q', 'zz', 'sku-7', 'SKU-7', '12a', '0042'];

export function pkDocs(count: number, rand: () => number): PkDoc[] {
  const docs: PkDoc[] = [];
  for (let i = 0; i < count; i++) {
    const id = i < STRING_IDS.length ? STRING_IDS[i]! : i;
    docs.push({
      id,
      cat: ['red', 'green', 'blue'][Math.floor(rand() * 3)]!,
      n: Math.floor(rand() * 10),
      title: `t${i % 7}`,
    });
  }
  return docs;
}

function pick<T>(rand: () => number, list: readonly T[]): T {
  return list[Math.floor(rand() * list.length)]!;
}

function literal(rand: () => number, count: number): string {
  const r = rand();
  if (r < 0.35) return String(Math.floor(rand() * count));
  if (r < 0.45) return `"${Math.floor(rand() * count)}"`;
  if (r < 0.5) return `${Math.floor(rand() * count)}.0`;
  if (r < 0.9) return `"${pick(rand, STRING_IDS)}"`;
  return `"${pick(rand, ['nope', 'a b', 'Ab', 'SKU-7', 'X-1'])}"`;
}

function pkTerm(rand: () => number, count: number): string {
  const r = rand();
  if (r < 0.5) return `id = ${literal(rand, count)}`;
  if (r < 0.8)
    return `id IN [${Array.from({ length: 1 + Math.floor(rand() * 4) }, () => literal(rand, count)).join(', ')}]`;
  if (r < 0.9) return `id != ${literal(rand, count)}`;
  return `NOT id = ${literal(rand, count)}`;
}

function otherTerm(rand: () => number): string {
  return pick(rand, ['cat = red', 'cat != blue', 'n > 4', 'n 2 TO 6', 'cat IN [red, green]', 'n EXISTS']);
}

function term(rand: () => number, count: number, depth: number): string {
  const r = rand();
  if (depth < 2 && r < 0.25) {
    const parts = Array.from({ length: 2 + Math.floor(rand() * 2) }, () => term(rand, count, depth + 1));
    return `(${parts.join(rand() < 0.5 ? ' AND ' : ' OR ')})`;
  }
  return r < 0.7 ? pkTerm(rand, count) : otherTerm(rand);
}

/** A random filter in string or array form that mentions the primary key `id`. */
export function pkFilter(rand: () => number, count: number): string | Array<string | string[]> {
  const s = term(rand, count, 0);
  if (rand() < 0.25) {
    const other = rand() < 0.5 ? [pkTerm(rand, count), pkTerm(rand, count)] : otherTerm(rand);
    return [s, other];
  }
  return s;
}
