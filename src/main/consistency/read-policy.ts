// HOT PATH. A read's consistency options for one index (SPEC A5, A6): `X-Miroir-Settings-Inconsistent: true` while a
// settings task of the index is between propose and commit; `X-Miroir-Min-Settings-Version: N` keeps the read off
// nodes stamped below N (503 miroir_settings_version_stale when N is above the committed version or the remaining
// nodes cannot answer for every shard); `X-Miroir-Session` pins the read to the group of the session's pending
// writes (sessions.ts). A plain read costs one cached index-record lookup and two header lookups.
import type { AuthResult } from '../../core/auth/authorize.js';
import { MeiliError } from '../../core/errors.js';
import type { ReadPolicy } from '../../core/rendezvous.js';
import type { Store } from '../../store/store.js';
import type { RequestContext } from '../../http/server.js';
import { settingsVersionStale } from '../cluster/scatter.js';
import type { TopologyService } from '../cluster/topology.js';
import { Sessions } from './sessions.js';

export interface ReadConsistencyOptions {
  store: Store;
  topology: TopologyService;
  /** Null when `session_pinning.enabled` is false (the header is then ignored). */
  sessions: Sessions | null;
}

const VERSION_RE = /^\d{1,15}$/;

export class ReadConsistency {
  constructor(private readonly o: ReadConsistencyOptions) {}

  /** The policy of a read of `uid` (null: a plain read); sets the reply headers it implies. */
  async forIndex(ctx: RequestContext<AuthResult>, uid: string): Promise<ReadPolicy | null> {
    const record = await this.o.store.getIndexCached(uid);
    if (record !== null && record.pending.some((c) => c.kind === 'settings'))
      ctx.replyHeaders['x-miroir-settings-inconsistent'] = 'true';
    const minRaw = ctx.req.headers['x-miroir-min-settings-version'];
    const session = this.o.sessions === null ? null : Sessions.id(ctx.req.headers['x-miroir-session']);
    if (minRaw === undefined && session === null) return null;
    let exclude: Set<string> | null = null;
    if (minRaw !== undefined) {
      if (Array.isArray(minRaw) || !VERSION_RE.test(minRaw.trim()))
        throw new MeiliError(
          'miroir_invalid_settings_version',
          '`X-Miroir-Min-Settings-Version` must be a non-negative integer.',
        );
      const min = Number(minRaw.trim());
      const committed = record?.committed?.settingsVersion ?? 0;
      if (min > committed) throw settingsVersionStale();
      const versions = await this.o.store.getNodeSettingsVersions(uid);
      exclude = new Set();
      // A node never stamped holds what it was created with and every verified broadcast since: the committed version.
      for (const n of this.o.topology.current.nodes) if ((versions[n.id] ?? committed) < min) exclude.add(n.id);
    }
    let group: number | null = null;
    if (session !== null) {
      const pin = await this.o.sessions!.forRead(ctx.auth, session, uid);
      if (pin !== null) {
        group = pin.group;
        if (pin.stale) ctx.replyHeaders['x-miroir-session-stale'] = 'true';
      }
    }
    return group === null && exclude === null ? null : { group, groups: null, exclude };
  }
}
