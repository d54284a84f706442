// The page's widgets, rendered from instantsearch.js connectors with plain, accessible markup (labels, fieldsets,
// native buttons and checkboxes, live regions): search box (debounced as-you-type), result count, hits with
// highlighting, one facet per filterable attribute, sort, pagination, clear-filters, empty state.
import connectClearRefinements from 'instantsearch.js/es/connectors/clear-refinements/connectClearRefinements.js';
import connectHits from 'instantsearch.js/es/connectors/hits/connectHits.js';
import connectPagination from 'instantsearch.js/es/connectors/pagination/connectPagination.js';
import connectRefinementList from 'instantsearch.js/es/connectors/refinement-list/connectRefinementList.js';
import connectSearchBox from 'instantsearch.js/es/connectors/search-box/connectSearchBox.js';
import connectSortBy from 'instantsearch.js/es/connectors/sort-by/connectSortBy.js';
import connectStats from 'instantsearch.js/es/connectors/stats/connectStats.js';
import type { PageModel } from '../../core/search-ui/page-model.js';
import { membersOf } from '../../core/types.js';
import { fill, h, highlighted, patch } from './dom.js';

export type Words = Readonly<Record<string, string>>;

const byId = (id: string) => document.getElementById(id)!;

/** Debounced as-you-type search; Enter searches at once, Escape clears, `/` anywhere focuses the box. */
export function searchBox(t: Words, debounceMs: number) {
  let input: HTMLInputElement | null = null;
  return connectSearchBox(({ query, refine, clear }, isFirstRender) => {
    if (isFirstRender) {
      const container = byId('searchbox');
      input = h('input', {
        id: 'search-input',
        type: 'search',
        autocomplete: 'off',
        spellcheck: 'false',
        placeholder: t.searchPlaceholder!,
        'aria-describedby': 'search-hint',
        'data-focus': 'search',
      });
      const form = h(
        'form',
        { class: 'search-form', novalidate: true },
        h('label', { for: 'search-input', class: 'search-label' }, t.searchLabel!),
        input,
        h('p', { id: 'search-hint', class: 'hint' }, t.searchHint!),
      );
      let timer: ReturnType<typeof setTimeout> | null = null;
      input.addEventListener('input', () => {
        if (timer !== null) clearTimeout(timer);
        const value = input!.value;
        timer = setTimeout(() => refine(value), debounceMs);
      });
      input.addEventListener('keydown', (e) => {
        if (e.key === 'Escape' && input!.value !== '') {
          e.preventDefault();
          input!.value = '';
          clear();
        }
      });
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        if (timer !== null) clearTimeout(timer);
        refine(input!.value);
      });
      document.addEventListener('keydown', (e) => {
        const target = e.target as HTMLElement | null;
        const textInput =
          target instanceof HTMLInputElement &&
          !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(target.type);
        const typing = target !== null && (textInput || target.tagName === 'TEXTAREA' || target.isContentEditable);
        if (e.key === '/' && !typing && !e.ctrlKey && !e.metaKey && !e.altKey) {
          e.preventDefault();
          input!.focus();
        }
      });
      container.replaceChildren(form);
    }
    if (input !== null && document.activeElement !== input && input.value !== query) input.value = query;
  })({});
}

/** "12 results for “x”" in a polite live region. */
export function stats(t: Words) {
  return connectStats(({ nbHits, query }) => {
    const text =
      nbHits === 0
        ? query === ''
          ? t.noResults!
          : fill(t.noResultsFor!, { query })
        : query === ''
          ? nbHits === 1
            ? t.result!
            : fill(t.results!, { count: nbHits.toLocaleString('en') })
          : nbHits === 1
            ? fill(t.resultFor!, { query })
            : fill(t.resultsFor!, { count: nbHits.toLocaleString('en'), query });
    byId('stats').textContent = text;
  })({});
}

const HIDDEN_FIELDS = /^(objectID|_|__)/;

function displayValue(value: unknown, hl: unknown): Node | string {
  if (Array.isArray(hl)) {
    const frag = document.createDocumentFragment();
    hl.forEach((part, i) => {
      if (i > 0) frag.append(', ');
      const v = membersOf(part).value;
      frag.append(typeof v === 'string' ? highlighted(v) : String(v ?? ''));
    });
    return frag;
  }
  const v = membersOf(hl).value;
  if (typeof v === 'string') return highlighted(v);
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value).slice(0, 300);
  return String(value);
}

function safeUrl(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    const url = new URL(value, location.href);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : null;
  } catch {
    return null;
  }
}

/** The result list: a heading per hit (a link when the index has a URL field, else a details toggle) and its fields. */
export function hits(t: Words, model: PageModel, onOpen: (position: number, query: string) => void) {
  const expanded = new Set<string>();
  return connectHits(({ items, results }) => {
    const container = byId('hits');
    if (results === undefined || results === null) return;
    const query = results.query ?? '';
    if (items.length === 0) {
      patch(
        container,
        h('div', { class: 'empty' }, h('p', {}, query === '' ? t.emptyNoQuery! : fill(t.empty!, { query }))),
      );
      return;
    }
    const titleAttr =
      model.titleAttribute ?? ['title', 'name'].find((a) => a in items[0]!) ?? model.primaryKey ?? 'objectID';
    const list = h('ol', { class: 'hits', start: results.page * results.hitsPerPage + 1 });
    items.forEach((hit, i) => {
      const rec = hit as unknown as Record<string, unknown>;
      const hl = membersOf(rec._highlightResult);
      const id = String(rec.objectID ?? i);
      const position = results.page * results.hitsPerPage + i + 1;
      const fields = (
        model.displayedAttributes ??
        Object.keys(rec).filter(
          (k) => !HIDDEN_FIELDS.test(k) && k !== titleAttr && k !== model.urlAttribute && k !== model.primaryKey,
        )
      ).filter((k) => k in rec);
      const shown = model.displayedAttributes ?? fields.slice(0, 6);
      const headingId = `hit-${position}`;
      const titleText = displayValue(rec[titleAttr], hl[titleAttr]);
      const url = model.urlAttribute === null ? null : safeUrl(rec[model.urlAttribute]);
      const open = expanded.has(id);
      let heading: HTMLElement;
      if (url !== null) {
        const a = h('a', { href: url, 'data-focus': `hit-${id}` }, titleText);
        a.addEventListener('click', () => onOpen(position, query));
        heading = h('h3', { id: headingId }, a);
      } else {
        const more = fields.length > shown.length;
        const button = more
          ? h(
              'button',
              {
                type: 'button',
                class: 'hit-toggle',
                'aria-expanded': open ? 'true' : 'false',
                'aria-controls': `${headingId}-fields`,
                'data-focus': `hit-${id}`,
              },
              titleText,
            )
          : null;
        button?.addEventListener('click', () => {
          if (expanded.has(id)) expanded.delete(id);
          else {
            expanded.add(id);
            onOpen(position, query);
          }
          const now = expanded.has(id);
          button.setAttribute('aria-expanded', now ? 'true' : 'false');
          const dl = document.getElementById(`${headingId}-fields`);
          if (dl !== null) dl.replaceWith(fieldList(`${headingId}-fields`, now ? fields : shown, rec, hl));
        });
        heading = h('h3', { id: headingId }, button ?? titleText);
      }
      list.append(
        h(
          'li',
          { class: 'hit' },
          h(
            'article',
            { 'aria-labelledby': headingId },
            heading,
            fieldList(`${headingId}-fields`, open ? fields : shown, rec, hl),
          ),
        ),
      );
    });
    patch(container, list);
  })({});
}

function fieldList(
  id: string,
  fields: readonly string[],
  rec: Record<string, unknown>,
  hl: Record<string, unknown>,
): HTMLElement {
  const dl = h('dl', { id, class: 'fields' });
  for (const f of fields)
    dl.append(h('div', { class: 'field' }, h('dt', {}, f), h('dd', {}, displayValue(rec[f], hl[f]))));
  return dl;
}

/** One facet: a fieldset of checkboxes with counts, "show more" when there are more values. */
export function facet(t: Words, attribute: string) {
  const section = h('div', { class: 'facet' });
  byId('facets').append(section);
  return connectRefinementList(({ items, refine, canToggleShowMore, isShowingMore, toggleShowMore }) => {
    if (items.length === 0) {
      patch(section);
      return;
    }
    const legendId = `facet-${attribute.replace(/[^A-Za-z0-9_-]/g, '_')}`;
    const list = h('ul', {});
    for (const item of items) {
      const box = h('input', {
        type: 'checkbox',
        value: item.value,
        checked: item.isRefined,
        'data-focus': `${legendId}:${item.value}`,
      });
      box.addEventListener('change', () => refine(item.value));
      list.append(
        h(
          'li',
          {},
          h(
            'label',
            {},
            box,
            h('span', { class: 'facet-label' }, item.label),
            h('span', { class: 'count' }, `${item.count.toLocaleString('en')}`),
          ),
        ),
      );
    }
    const fs = h('fieldset', {}, h('legend', { id: legendId }, attribute), list);
    if (canToggleShowMore) {
      const more = h(
        'button',
        { type: 'button', class: 'link-button', 'data-focus': `${legendId}:more` },
        isShowingMore ? t.showLess! : t.showMore!,
      );
      more.addEventListener('click', () => toggleShowMore());
      fs.append(more);
    }
    patch(section, fs);
  })({ attribute, limit: 8, showMore: true, showMoreLimit: 50 });
}

export function sortBy(t: Words, model: PageModel) {
  return connectSortBy(({ options, currentRefinement, refine }, isFirstRender) => {
    if (!isFirstRender && document.getElementById('sort-select') !== null) {
      (document.getElementById('sort-select') as HTMLSelectElement).value = currentRefinement;
      return;
    }
    if (options.length < 2) return;
    const select = h('select', { id: 'sort-select' });
    for (const o of options)
      select.append(h('option', { value: o.value, selected: o.value === currentRefinement }, o.label));
    select.addEventListener('change', () => refine(select.value));
    byId('sort').replaceChildren(h('label', { for: 'sort-select' }, t.sortLabel!), select);
  })({ items: model.sort });
}

/** Page buttons; after a page change focus moves to the results, which scroll into view. */
export function pagination(t: Words) {
  return connectPagination(({ pages, currentRefinement, nbPages, isFirstPage, isLastPage, refine }) => {
    const container = byId('pagination');
    if (nbPages <= 1) {
      patch(container);
      return;
    }
    const go = (page: number) => {
      refine(page);
      const main = byId('results');
      main.focus();
      main.scrollIntoView({ block: 'start' });
    };
    const item = (
      label: string,
      page: number,
      opts: { aria?: string; current?: boolean; disabled?: boolean; key: string },
    ) => {
      const b = h(
        'button',
        {
          type: 'button',
          'aria-label': opts.aria,
          'aria-current': opts.current ? 'page' : null,
          disabled: opts.disabled,
          'data-focus': opts.key,
        },
        label,
      );
      b.addEventListener('click', () => go(page));
      return h('li', {}, b);
    };
    const list = h('ul', {});
    list.append(item('‹', currentRefinement - 1, { aria: t.previous, disabled: isFirstPage, key: 'prev' }));
    for (const p of pages)
      list.append(
        item(String(p + 1), p, {
          aria: fill(t.page!, { page: p + 1 }),
          current: p === currentRefinement,
          key: `p${p}`,
        }),
      );
    list.append(item('›', currentRefinement + 1, { aria: t.next, disabled: isLastPage, key: 'next' }));
    patch(container, h('nav', { 'aria-label': t.pagination! }, list));
  })({ padding: 2 });
}

export function clearFilters(t: Words) {
  return connectClearRefinements(({ canRefine, refine }) => {
    const container = byId('clear-refinements');
    if (!canRefine) {
      patch(container);
      return;
    }
    const b = h('button', { type: 'button', class: 'link-button', 'data-focus': 'clear' }, t.clearFilters!);
    b.addEventListener('click', () => refine());
    patch(container, b);
  })({});
}
