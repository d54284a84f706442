// Helpers for topology tests: admin calls, seeding an index through Miroir, waiting for tasks and rebalances, and
// reading what each dev node holds (directly, with the node key) to check placement against rendezvous.
import assert from 'node:assert/strict';
import { documentHash } from '../../src/core/canonical-json.js';
import { shardForKey } from '../../src/core/hash.js';
import { assignShard } from '../../src/core/rendezvous.js';
import { until } from './wait.js';

export type Doc = Record<string, unknown> & { id: number };

export async function adminCall(
  url: string,
  adminKey: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  return jsonCall(url, { 'x-admin-key': adminKey }, method, path, body);
}

/** A JSON call with `Authorization: Bearer <key>` (a master, admin or API key, as a client sends it). */
export async function bearerCall(
  url: string,
  key: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  return jsonCall(url, { authorization: `Bearer ${key}` }, method, path, body);
}

async function jsonCall(
  url: string,
  auth: Record<string, string>,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: { ...auth, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? null : JSON.parse(text) };
}

export async function waitTasks(url: string, key: string, uids: readonly number[], timeoutMs = 60_000): Promise<void> {
  for (const uid of uids) {
    await until(
      async () => {
        const res = await fetch(`${url}/tasks/${uid}`, { headers: { authorization: `Bearer ${key}` } });
        const t = (await res.json()) as { status: string; error?: unknown };
        if (t.status === 'failed') throw new Error(`task ${uid} failed: ${JSON.stringify(t.error)}`);
        return t.status === 'succeeded';
      },
      `task ${uid}`,
      timeoutMs,
    );
  }
}

export async function seed(url: string, key: string, index: string, count: number): Promise<void> {
  const uids: number[] = [];
  for (let from = 0; from < count; from += 2500) {
    const docs = Array.from({ length: Math.min(2500, count - from) }, (_, i) => ({
      id: from + i,
      title: `doc ${from + i}`,
      v: 0,
    }));
    const res = await fetch(`${url}/indexes/${index}/documents`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify(docs),
    });
    assert.equal(res.status, 202, await res.clone().text());
    uids.push(((await res.json()) as { taskUid: number }).taskUid);
  }
  await waitTasks(url, key, uids);
}

/** Every document a node holds for an index (directly from the node). */
export async function nodeDocs(nodeUrl: string, nodeKey: string, index: string): Promise<Doc[]> {
  const res = await fetch(`${nodeUrl}/indexes/${index}/documents/fetch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${nodeKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ limit: 1_000_000 }),
  });
  if (res.status === 404) return [];
  assert.equal(res.status, 200);
  return ((await res.json()) as { results: Doc[] }).results;
}

/** Waits until nothing is queued or running and returns the final status. */
export async function waitRebalanced(url: string, adminKey: string, timeoutMs = 60_000): Promise<any> {
  let status: any = null;
  await until(
    async () => {
      status = (await adminCall(url, adminKey, 'GET', '/_miroir/rebalance/status')).body;
      return status.in_progress === false;
    },
    'the rebalance to finish',
    timeoutMs,
    50,
  );
  return status;
}

/**
 * Asserts that every document is on exactly its rendezvous owners among `owners` (per group), no other node holds
 * it, and the content is the same on every copy; returns id → document (one copy).
 */
export async function assertPlacement(
  nodes: ReadonlyArray<{ id: string; url: string; group: number }>,
  nodeKey: string,
  index: string,
  shards: number,
  rf: number,
): Promise<Map<number, Doc>> {
  const held = new Map<string, Doc[]>();
  for (const n of nodes) held.set(n.id, await nodeDocs(n.url, nodeKey, index));
  const copies = new Map<number, Array<{ node: string; hash: bigint; doc: Doc }>>();
  for (const [node, docs] of held) {
    const seen = new Set<number>();
    for (const d of docs) {
      assert.ok(!seen.has(d.id), `document ${d.id} twice on ${node}`);
      seen.add(d.id);
      let list = copies.get(d.id);
      if (list === undefined) copies.set(d.id, (list = []));
      list.push({ node, hash: documentHash(d), doc: d });
    }
  }
  const groups = [...new Set(nodes.map((n) => n.group))];
  const out = new Map<number, Doc>();
  for (const [id, list] of copies) {
    const shard = shardForKey(String(id), shards);
    const expected = groups
      .flatMap((g) =>
        assignShard(
          shard,
          nodes.filter((n) => n.group === g).map((n) => n.id),
          rf,
        ),
      )
      .sort();
    assert.deepEqual(list.map((c) => c.node).sort(), expected, `document ${id} (shard ${shard}) is on its owners only`);
    assert.ok(
      list.every((c) => c.hash === list[0]!.hash),
      `every copy of document ${id} is identical`,
    );
    out.set(id, list[0]!.doc);
  }
  return out;
}
