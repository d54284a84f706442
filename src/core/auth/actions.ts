// Meilisearch's API-key actions (v1.50 serde names) and how a granted action covers a required one:
// exact, `*`, `<family>.*`, and `*.get` (every read action but `keys.get`, as the default read-only key shows).

export const KEY_ACTIONS = Object.freeze([
  '*',
  'search',
  'documents.*',
  'documents.add',
  'documents.get',
  'documents.delete',
  'indexes.*',
  'indexes.create',
  'indexes.get',
  'indexes.update',
  'indexes.delete',
  'indexes.swap',
  'indexes.compact',
  'tasks.*',
  'tasks.cancel',
  'tasks.delete',
  'tasks.get',
  'tasks.compact',
  'settings.*',
  'settings.get',
  'settings.update',
  'stats.*',
  'stats.get',
  'metrics.*',
  'metrics.get',
  'dumps.*',
  'dumps.create',
  'snapshots.*',
  'snapshots.create',
  'version',
  'keys.create',
  'keys.get',
  'keys.update',
  'keys.delete',
  'experimental.get',
  'experimental.update',
  'export',
  'network.get',
  'network.update',
  'chatCompletions',
  'chats.*',
  'chats.get',
  'chats.delete',
  'chatsSettings.*',
  'chatsSettings.get',
  'chatsSettings.update',
  '*.get',
  'webhooks.*',
  'webhooks.get',
  'webhooks.update',
  'webhooks.delete',
  'webhooks.create',
  'fields.post',
  'dynamicSearchRules.*',
  'dynamicSearchRules.get',
  'dynamicSearchRules.create',
  'dynamicSearchRules.update',
  'dynamicSearchRules.delete',
] as const);

/** Miroir's own actions, accepted by Miroir's `/keys` only (the dev node answers like Meilisearch):
 * `changes.get` reads the change stream (`GET /_miroir/changes`, SPEC A13). */
export const MIROIR_KEY_ACTIONS = Object.freeze(['changes.get'] as const);

export type KeyAction = (typeof KEY_ACTIONS)[number];

const KNOWN = new Set<string>(KEY_ACTIONS);

export function isKeyAction(value: unknown): value is KeyAction {
  return typeof value === 'string' && KNOWN.has(value);
}

/** Actions that only make sense for every index (a key restricted to some indexes may not hold them). */
export const GLOBAL_ACTIONS: ReadonlySet<string> = new Set([
  'indexes.create',
  'indexes.swap',
  'dumps.create',
  'snapshots.create',
  'version',
  'keys.create',
  'keys.get',
  'keys.update',
  'keys.delete',
  'experimental.get',
  'experimental.update',
  'network.get',
  'network.update',
]);

/** Whether one granted action covers one required action. */
export function actionCovers(granted: string, required: string): boolean {
  if (granted === '*' || granted === required) return true;
  if (granted === '*.get') return (required.endsWith('.get') && required !== 'keys.get') || required === 'version';
  if (granted.endsWith('.*')) return required.startsWith(granted.slice(0, -1));
  return false;
}

/** Whether a key's actions cover every required action of a route. */
export function actionsAllow(granted: readonly string[], required: readonly string[]): boolean {
  for (const need of required) {
    let ok = false;
    for (const g of granted) {
      if (actionCovers(g, need)) {
        ok = true;
        break;
      }
    }
    if (!ok) return false;
  }
  return true;
}

/** Whether an index uid matches a key's `indexes` entry (`*`, an exact uid, or a `prefix*` pattern). */
export function indexPatternMatches(pattern: string, uid: string): boolean {
  if (pattern === '*') return true;
  if (pattern.endsWith('*')) return uid.startsWith(pattern.slice(0, -1));
  return pattern === uid;
}

export function indexesAllow(patterns: readonly string[], uid: string): boolean {
  for (const p of patterns) if (indexPatternMatches(p, uid)) return true;
  return false;
}
