// SPEC A19's console metrics, registered on the proxy's registry: sessions opened, and the state changes made
// through console sessions by action (destructive ones counted again on their own). Actions are named from the
// admin route they hit; a route not in the table counts under its path template.
import { Counter, type Registry } from 'prom-client';

/** method + route template → the action's name and whether the console makes the operator retype a name for it. */
const ACTIONS: Readonly<Record<string, { action: string; destructive: boolean }>> = Object.freeze({
  'POST /_miroir/nodes': { action: 'node_add', destructive: false },
  'POST /_miroir/nodes/:id/drain': { action: 'node_drain', destructive: true },
  'DELETE /_miroir/nodes/:id': { action: 'node_remove', destructive: true },
  'DELETE /_miroir/groups/:id': { action: 'group_remove', destructive: true },
  'POST /_miroir/rebalance': { action: 'rebalance_start', destructive: false },
  'POST /_miroir/keys': { action: 'key_create', destructive: false },
  'DELETE /_miroir/keys/:key': { action: 'key_delete', destructive: true },
});

export function consoleAction(method: string, routeName: string): { action: string; destructive: boolean } {
  return ACTIONS[`${method} ${routeName}`] ?? { action: routeName, destructive: false };
}

export interface ConsoleMetrics {
  sessions: Counter;
  actions: Counter<'action'>;
  destructive: Counter<'action'>;
}

export function registerConsoleMetrics(registry: Registry): ConsoleMetrics {
  const registers = [registry];
  return {
    sessions: new Counter({
      name: 'miroir_admin_ui_sessions_total',
      help: 'Admin console sessions opened (successful logins).',
      registers,
    }),
    actions: new Counter({
      name: 'miroir_admin_ui_action_total',
      help: 'State changes sent with admin console sessions (past the session, CSRF and read-only checks), by action.',
      labelNames: ['action'],
      registers,
    }),
    destructive: new Counter({
      name: 'miroir_admin_ui_destructive_action_total',
      help: 'Destructive state changes (the console asks to retype the name) sent with console sessions, by action.',
      labelNames: ['action'],
      registers,
    }),
  };
}
