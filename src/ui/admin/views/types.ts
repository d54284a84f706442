// What every view gets from the shell: the session (read-only mode, capabilities), a way to report an action's
// outcome, and the retype-to-confirm dialog for destructive actions.
import type { SessionInfo } from '../api.js';
import type { ConfirmRequest, Message } from '../components.js';

export interface ViewProps {
  session: SessionInfo;
  notify(message: Message): void;
  confirm(request: ConfirmRequest): void;
}
