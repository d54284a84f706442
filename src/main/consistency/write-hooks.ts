// What every write route goes through once (issue 24), composed at route-table build time so a write without the
// headers costs a few lookups: the settings freeze (503 miroir_settings_frozen on an index whose drifted settings
// could not be repaired; deleting the index stays allowed), `Idempotency-Key` (idempotency.ts) and
// `X-Miroir-Session` (the write's task remembered in the session, sessions.ts).
import type { AuthResult } from '../../core/auth/authorize.js';
import type { Reply, RequestContext } from '../../http/server.js';
import type { Idempotency } from './idempotency.js';
import { Sessions } from './sessions.js';
import type { SettingsDriftCheck } from './settings-drift.js';

type Handler = (ctx: RequestContext<AuthResult>) => Promise<Reply> | Reply;

export interface WriteHooksOptions {
  idempotency: Idempotency | null;
  drift: SettingsDriftCheck | null;
  sessions: Sessions | null;
}

/** The task uid and index of a 202 answer (a fresh one or a replay). */
function acceptedTask(reply: Reply): { taskUid: number; indexUid: string | null } | null {
  let body = reply.body as Record<string, unknown> | undefined;
  if (body === undefined && reply.raw !== undefined) {
    try {
      body = JSON.parse(reply.raw.toString()) as Record<string, unknown>;
    } catch {
      return null;
    }
  }
  if (body === undefined || body === null || typeof body.taskUid !== 'number') return null;
  return { taskUid: body.taskUid, indexUid: typeof body.indexUid === 'string' ? body.indexUid : null };
}

export class WriteHooks {
  constructor(private readonly o: WriteHooksOptions) {}

  wrap(handler: Handler): Handler {
    let h = handler;
    const { drift, idempotency, sessions } = this.o;
    if (drift !== null) {
      const inner = h;
      h = async (ctx) => {
        const uid = ctx.params.uid;
        if (uid !== undefined && !(ctx.method === 'DELETE' && ctx.routeName === '/indexes/:uid'))
          await drift.checkWritable(uid);
        return inner(ctx);
      };
    }
    if (idempotency !== null) h = idempotency.wrap(h);
    if (sessions !== null) {
      const inner = h;
      h = async (ctx) => {
        const id = Sessions.id(ctx.req.headers['x-miroir-session']);
        const reply = await inner(ctx);
        if (id === null || reply.status !== 202) return reply;
        const task = acceptedTask(reply);
        if (task !== null)
          await sessions.recordWrite(ctx.auth, id, task.taskUid, task.indexUid ?? ctx.params.uid ?? null);
        return reply;
      };
    }
    return h;
  }
}
