// Settling index-level tasks: a deletion reports the documents it removed (logical count), a rename moves the index
// record to its new uid and a swap exchanges the records — both once every earlier task of those indexes settled —
// and either lifts the barrier that held writes to those indexes meanwhile. Creation and primary-key changes commit
// through the generic settle of their pending changes.
import type { IndexSwap } from '../../../core/index-requests.js';
import type { IndexRecordDraft } from '../../../core/index-state.js';
import type { TopologyService } from '../../cluster/topology.js';
import type { IndexStateService } from '../../state/index-state.js';
import type { SettleModule } from '../settler.js';
import { logicalCount } from './documents.js';

function withoutTask(d: IndexRecordDraft | null, taskUid: number): IndexRecordDraft | null {
  if (d === null) return null;
  return { ...d, pending: d.pending.filter((c) => c.taskUid !== taskUid) };
}

/** The record a swap or rename leaves at `uid`: `from`'s content, or nothing (null) when `from` is absent. */
function moved(uid: string, from: IndexRecordDraft | null, at: string): IndexRecordDraft | null {
  if (from === null || from.committed === null) return null;
  return { ...from, uid, committed: { ...from.committed, updatedAt: at } };
}

export function indexModules(topology: TopologyService, state: IndexStateService): Array<[string, SettleModule]> {
  return [
    [
      'indexDeletion',
      async (ctx) => ({
        status: ctx.status,
        error: ctx.error,
        details: {
          deletedDocuments: ctx.status === 'succeeded' ? logicalCount(topology, ctx.nodes, 'deletedDocuments') : 0,
        },
      }),
    ],
    [
      'indexUpdate',
      async (ctx) => {
        const d = ctx.task.details ?? {};
        const newUid = d.newIndexUid;
        if (typeof newUid !== 'string' || ctx.task.queues.length < 2) return ctx;
        const oldUid = ctx.task.indexUid!;
        const at = new Date().toISOString();
        await state.changeMany([oldUid, newUid], (cur) => {
          const from = withoutTask(cur.get(oldUid) ?? null, ctx.task.uid);
          if (ctx.status !== 'succeeded')
            return new Map([
              [oldUid, from],
              [newUid, withoutTask(cur.get(newUid) ?? null, ctx.task.uid)],
            ]);
          const next = moved(newUid, from, at);
          if (next !== null && typeof d.primaryKey === 'string')
            next.committed = { ...next.committed!, primaryKey: d.primaryKey };
          return new Map([
            [oldUid, null],
            [newUid, next],
          ]);
        });
        return ctx;
      },
    ],
    [
      'indexSwap',
      async (ctx) => {
        const swaps = ((ctx.task.details?.swaps ?? []) as IndexSwap[]).map((s) => s.indexes);
        const uids = ctx.task.queues;
        const at = new Date().toISOString();
        const renames = new Set(
          ((ctx.task.details?.swaps ?? []) as IndexSwap[]).filter((s) => s.rename).map((s) => s.indexes[0]),
        );
        await state.changeMany(uids, (cur) => {
          const clean = new Map(uids.map((u) => [u, withoutTask(cur.get(u) ?? null, ctx.task.uid)]));
          if (ctx.status !== 'succeeded') return clean;
          const next = new Map(clean);
          for (const [a, b] of swaps) {
            next.set(b, moved(b, clean.get(a)!, at));
            next.set(a, renames.has(a) ? null : moved(a, clean.get(b)!, at));
          }
          return next;
        });
        return ctx;
      },
    ],
  ];
}
