// The scoped search key's life as data (SPEC A21): when the primary key is due for rotation, and when the previous
// generation may be revoked — only once every live pod has beaconed the new generation and the drain time passed.
// Pure; the service in src/main/search-ui/scoped-keys.ts applies these decisions.

/** `miroir:search_ui_scoped_key:<index>` (SPEC C8). */
export interface ScopedKeyRecord {
  primary_uid: string;
  previous_uid: string | null;
  /** RFC 3339: when the primary became primary. */
  rotated_at: string;
  generation: number;
}

const DAY_MS = 86_400_000;

/** The expiry a new scoped key gets. */
export function scopedKeyExpiry(nowMs: number, maxAgeDays: number): Date {
  return new Date(nowMs + maxAgeDays * DAY_MS);
}

/** Whether the primary (expiring at `expiresAtMs`, null = never) is within `rotateBeforeDays` of its expiry. */
export function rotationDue(expiresAtMs: number | null, nowMs: number, rotateBeforeDays: number): boolean {
  return expiresAtMs !== null && nowMs >= expiresAtMs - rotateBeforeDays * DAY_MS;
}

/**
 * Whether the previous generation's key may be revoked now: there is one, the drain time since the rotation has
 * passed, and every live pod's beacon shows the record's generation (or a later one).
 */
export function revocable(
  record: ScopedKeyRecord,
  observed: Readonly<Record<string, number>>,
  livePods: readonly string[],
  nowMs: number,
  drainMs: number,
): boolean {
  if (record.previous_uid === null) return false;
  if (nowMs < Date.parse(record.rotated_at) + drainMs) return false;
  return livePods.every((pod) => (observed[pod] ?? -1) >= record.generation);
}

/** The record after a rotation to `newUid` (the old primary becomes the previous key). */
export function rotated(record: ScopedKeyRecord | null, newUid: string, nowMs: number): ScopedKeyRecord {
  return {
    primary_uid: newUid,
    previous_uid: record?.primary_uid ?? null,
    rotated_at: new Date(nowMs).toISOString(),
    generation: (record?.generation ?? 0) + 1,
  };
}
