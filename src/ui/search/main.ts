// The search page served at /ui/search/{index} (SPEC A21): instantsearch.js over @meilisearch/instant-meilisearch,
// pointed at the Miroir that served the page and authenticated only by a short-lived session token for this index.
// Reads its page model (title, facets, sort, fields) from the JSON the server embedded; shows results as you type,
// the count, highlights, facets, sort, pages, and friendly empty, error, rate-limit and access-key states.
import instantsearch from 'instantsearch.js/es/index.js';
import configure from 'instantsearch.js/es/widgets/configure/configure.js';
import { instantMeiliSearch } from '@meilisearch/instant-meilisearch';
import { SEARCH_UI_LOCALES } from '../../core/search-ui/locale.js';
import type { PageModel } from '../../core/search-ui/page-model.js';
import { fill, h } from './dom.js';
import { Session, sessionHttpClient, uiErrorOf, type UiError } from './session.js';
import { clearFilters, facet, hits, pagination, searchBox, sortBy, stats } from './widgets.js';

const t = SEARCH_UI_LOCALES.en!;
const model = JSON.parse(document.getElementById('miroir-search-ui')!.textContent ?? '{}') as PageModel;

// Miroir's base URL: this page's path minus `/ui/search/<index>` (Miroir may sit behind a path prefix).
const here = location.pathname.replace(/\/+$/, '');
const suffix = `/ui/search/${encodeURIComponent(model.index)}`;
const apiBase = `${location.origin}${here.endsWith(suffix) ? here.slice(0, -suffix.length) : ''}/`;
const pageUrl = `${location.origin}${here}`;
const sessionUrl = `${pageUrl}/session`;
const beaconUrl = `${pageUrl}/beacon`;

const notice = document.getElementById('notice')!;
let retryTimer: ReturnType<typeof setTimeout> | null = null;

function clearNotice(): void {
  if (notice.childNodes.length > 0) notice.replaceChildren();
  notice.className = '';
}

function showNotice(kind: string, ...nodes: Array<Node | string>): void {
  notice.className = `notice notice-${kind}`;
  notice.replaceChildren(...nodes);
}

const session = new Session(sessionUrl);
const { searchClient } = instantMeiliSearch(apiBase, '', {
  finitePagination: true,
  primaryKey: model.primaryKey ?? undefined,
  keepZeroFacets: false,
  httpClient: sessionHttpClient(session, clearNotice) as never,
});

const search = instantsearch({
  indexName: model.index,
  searchClient: searchClient as never,
  routing: true,
  insights: false,
  future: { preserveSharedStateOnUnmount: true },
});

function retryButton(): HTMLButtonElement {
  const b = h('button', { type: 'button', class: 'link-button' }, t.retry!);
  b.addEventListener('click', () => search.refresh());
  return b;
}

function accessKeyForm(wrong: boolean): HTMLFormElement {
  const input = h('input', { id: 'access-key', type: 'password', autocomplete: 'current-password', required: true });
  const form = h(
    'form',
    { class: 'access-key' },
    h('p', {}, wrong ? t.accessKeyWrong! : t.accessKeyHint!),
    h('label', { for: 'access-key' }, t.accessKeyLabel!),
    input,
    h('button', { type: 'submit' }, t.accessKeySubmit!),
  );
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    session.sharedKey = input.value;
    clearNotice();
    search.refresh();
  });
  queueMicrotask(() => input.focus());
  return form;
}

function showError(err: UiError | null): void {
  if (retryTimer !== null) clearTimeout(retryTimer);
  if (err?.code === 'miroir_rate_limited') {
    const seconds = err.retryAfterS ?? 60;
    showNotice('wait', h('p', {}, fill(t.rateLimited!, { seconds })), retryButton());
    retryTimer = setTimeout(() => search.refresh(), seconds * 1000);
    return;
  }
  if (err?.code === 'miroir_invalid_auth' && model.authMode === 'shared_key') {
    showNotice('auth', accessKeyForm(session.sharedKey !== null));
    return;
  }
  if (err?.code === 'miroir_invalid_auth') {
    showNotice('auth', h('p', {}, t.signedOut!));
    return;
  }
  showNotice('error', h('p', {}, t.error!), retryButton());
}

search.on('error', (event: { error?: unknown } | unknown) =>
  showError(uiErrorOf((event as { error?: unknown }).error ?? event)),
);

function beacon(position: number, query: string): void {
  void session
    .current()
    .then((token) =>
      fetch(beaconUrl, {
        method: 'POST',
        keepalive: true,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'click', position, query }),
      }),
    )
    .catch(() => undefined);
}

search.addWidgets([
  configure({ hitsPerPage: model.hitsPerPage, attributesToHighlight: ['*'] } as never),
  searchBox(t, 200),
  stats(t),
  clearFilters(t),
  ...model.facets.map((attribute) => facet(t, attribute)),
  sortBy(t, model),
  hits(t, model, beacon),
  pagination(t),
]);
search.start();
