// The console's views, in menu order. A view that belongs to an optional capability (aliases, reshard, anti-entropy,
// canaries, shadow diffs) names it in `capability` and is shown only when the server lists that capability in the
// session (src/main/admin-ui/index.ts `consoleCapabilities`); none of those capabilities is built yet.
import type { FunctionComponent } from 'preact';
import { IndexesView } from './indexes.js';
import { KeysView } from './keys.js';
import { OverviewView } from './overview.js';
import { RebalanceView } from './rebalance.js';
import { ShardsView } from './shards.js';
import { TasksView } from './tasks.js';
import type { ViewProps } from './types.js';

export interface ViewDef {
  /** The hash route (`#/<id>`). */
  id: string;
  title: string;
  component: FunctionComponent<ViewProps>;
  capability?: string;
}

export const VIEWS: readonly ViewDef[] = [
  { id: 'overview', title: 'Overview', component: OverviewView },
  { id: 'shards', title: 'Shard map', component: ShardsView },
  { id: 'indexes', title: 'Indexes', component: IndexesView },
  { id: 'tasks', title: 'Tasks', component: TasksView },
  { id: 'keys', title: 'API keys', component: KeysView },
  { id: 'rebalance', title: 'Topology changes', component: RebalanceView },
];

export function visibleViews(capabilities: readonly string[]): ViewDef[] {
  return VIEWS.filter((v) => v.capability === undefined || capabilities.includes(v.capability));
}
