// API keys: the list (values are never listed), creation — the new key's value shown once, to copy — and deletion
// with the key's name retyped. Actions and index patterns follow Meilisearch's /keys.
import { useState } from 'preact/hooks';
import { KEY_ACTIONS, MIROIR_KEY_ACTIONS } from '../../../core/auth/actions.js';
import { api, errorText } from '../api.js';
import { Field } from '../components.js';
import { dateTime } from '../format.js';
import { usePoll } from '../hooks.js';
import type { ApiKey } from './shapes.js';
import type { ViewProps } from './types.js';

function keyName(k: ApiKey): string {
  return k.name ?? k.uid;
}

function CreateKey({ onCreated, notify }: { onCreated(k: ApiKey): void; notify: ViewProps['notify'] }) {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [actions, setActions] = useState<string[]>(['search']);
  const [indexes, setIndexes] = useState('*');
  const [expires, setExpires] = useState('');
  const [busy, setBusy] = useState(false);
  const toggle = (a: string) => setActions(actions.includes(a) ? actions.filter((x) => x !== a) : [...actions, a]);
  return (
    <form
      class="panel"
      aria-labelledby="create-key-h"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        try {
          const body = {
            name: name.trim() === '' ? null : name.trim(),
            description: description.trim() === '' ? null : description.trim(),
            actions,
            indexes: indexes
              .split(',')
              .map((s) => s.trim())
              .filter((s) => s !== ''),
            expiresAt: expires === '' ? null : new Date(expires).toISOString(),
          };
          onCreated(await api<ApiKey>('POST', '/_miroir/keys', body));
          setName('');
          setDescription('');
        } catch (err) {
          notify({ kind: 'error', text: `The key was not created: ${errorText(err)}` });
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2 id="create-key-h">Create a key</h2>
      <div class="fields">
        <Field id="key-name" label="Name">
          <input
            id="key-name"
            name="name"
            value={name}
            onInput={(e) => setName((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field id="key-description" label="Description">
          <input
            id="key-description"
            name="description"
            value={description}
            onInput={(e) => setDescription((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field id="key-indexes" label="Indexes (comma-separated patterns, * for all)">
          <input
            id="key-indexes"
            name="indexes"
            required
            value={indexes}
            onInput={(e) => setIndexes((e.target as HTMLInputElement).value)}
          />
        </Field>
        <Field id="key-expires" label="Expires (optional)">
          <input
            id="key-expires"
            name="expires"
            type="datetime-local"
            value={expires}
            onInput={(e) => setExpires((e.target as HTMLInputElement).value)}
          />
        </Field>
      </div>
      <fieldset class="actions">
        <legend>Actions</legend>
        {[...KEY_ACTIONS, ...MIROIR_KEY_ACTIONS].map((a) => (
          <label key={a} class="check">
            <input type="checkbox" name="actions" value={a} checked={actions.includes(a)} onChange={() => toggle(a)} />
            {a}
          </label>
        ))}
      </fieldset>
      <button type="submit" disabled={busy || actions.length === 0}>
        Create key
      </button>
    </form>
  );
}

function CreatedKey({ created, onDone }: { created: ApiKey; onDone(): void }) {
  const [copied, setCopied] = useState(false);
  return (
    <section class="panel created" aria-labelledby="created-h">
      <h2 id="created-h">Key {keyName(created)} created</h2>
      <p>Copy its value now: the console does not show it again.</p>
      <Field id="created-key-value" label="Key value">
        <input
          id="created-key-value"
          class="mono"
          readOnly
          value={created.key}
          onFocus={(e) => (e.target as HTMLInputElement).select()}
        />
      </Field>
      <p class="buttons">
        <button
          type="button"
          onClick={async () => {
            await navigator.clipboard?.writeText(created.key ?? '').then(
              () => setCopied(true),
              () => setCopied(false),
            );
          }}
        >
          Copy
        </button>
        <button type="button" onClick={onDone}>
          Done
        </button>
        <span role="status">{copied ? 'Copied.' : ''}</span>
      </p>
    </section>
  );
}

export function KeysView({ session, notify, confirm }: ViewProps) {
  const page = usePoll(
    (signal) => api<{ results: ApiKey[]; total: number }>('GET', '/_miroir/keys?limit=1000', undefined, { signal }),
    5000,
  );
  const [created, setCreated] = useState<ApiKey | null>(null);
  return (
    <>
      {created !== null && <CreatedKey created={created} onDone={() => setCreated(null)} />}
      {page.error !== null && <p class="notice notice-error">Cannot read the keys: {page.error}</p>}
      {page.data === null ? (
        <p>Loading…</p>
      ) : (
        <table>
          <caption class="sr-only">API keys, newest first</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Description</th>
              <th scope="col">Uid</th>
              <th scope="col">Actions</th>
              <th scope="col">Indexes</th>
              <th scope="col">Expires</th>
              {!session.read_only && (
                <th scope="col">
                  <span class="sr-only">Delete</span>
                </th>
              )}
            </tr>
          </thead>
          <tbody>
            {page.data.results.map((k) => (
              <tr key={k.uid} data-key={k.uid}>
                <th scope="row">{k.name ?? '—'}</th>
                <td>{k.description ?? ''}</td>
                <td class="mono">{k.uid}</td>
                <td>{k.actions.join(', ')}</td>
                <td>{k.indexes.join(', ')}</td>
                <td>{k.expiresAt === null ? 'never' : dateTime(k.expiresAt)}</td>
                {!session.read_only && (
                  <td>
                    <button
                      type="button"
                      class="danger"
                      aria-label={`Delete key ${keyName(k)}`}
                      onClick={() =>
                        confirm({
                          title: `Delete key ${keyName(k)}?`,
                          body: 'Clients using this key are refused from now on. This cannot be undone.',
                          name: keyName(k),
                          action: 'Delete key',
                          run: async () => {
                            try {
                              await api('DELETE', `/_miroir/keys/${encodeURIComponent(k.uid)}`);
                              notify({ kind: 'ok', text: `Key ${keyName(k)} deleted.` });
                            } catch (err) {
                              notify({ kind: 'error', text: `Key ${keyName(k)} was not deleted: ${errorText(err)}` });
                            }
                            page.refresh();
                          },
                        })
                      }
                    >
                      Delete
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {!session.read_only && (
        <CreateKey
          notify={notify}
          onCreated={(k) => {
            setCreated(k);
            notify({ kind: 'ok', text: `Key ${keyName(k)} created.` });
            page.refresh();
          }}
        />
      )}
    </>
  );
}
