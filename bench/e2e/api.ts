// Small HTTP helpers of the end-to-end benches: a JSON call that throws on an error answer, and a wait for a task
// through `GET /tasks/{uid}` (a bench fails loudly rather than measuring a failed setup).

/** Fetches and parses a JSON answer; a 4xx/5xx answer throws with its body. */
export async function json(url: string, init: RequestInit = {}): Promise<Record<string, unknown>> {
  const res = await fetch(url, init);
  const body = (await res.json()) as Record<string, unknown>;
  if (res.status >= 400) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** Waits until the task at `base` succeeded (polling every `pollMs`); a failed or canceled task throws. */
export async function waitTask(base: string, key: string, uid: number, pollMs: number): Promise<void> {
  for (;;) {
    const t = await json(`${base}/tasks/${uid}`, { headers: { authorization: `Bearer ${key}` } });
    if (t.status === 'succeeded') return;
    if (t.status === 'failed' || t.status === 'canceled') throw new Error(JSON.stringify(t));
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
