// What the search page shows for one index, derived from its logical settings and its stored `search_ui_config`:
// facets from the filterable attributes, sort options from the sortable attributes, the hit title and the fields.
// Pure; the page HTML embeds the result as JSON for the client bundle.

/** Stored per index by `POST /_miroir/ui/search/{index}/config` (`miroir:search_ui_config:<index>`). */
export interface SearchUiIndexConfig {
  title?: string;
  /** The field shown as each hit's heading (default: `title`, `name`, then the primary key). */
  title_attribute?: string;
  /** Fields listed under each hit's heading (default: every other top-level field, up to six). */
  displayed_attributes?: string[];
  /** A field holding a URL: the hit heading links there. */
  url_attribute?: string;
  /** Facets shown (default: every filterable attribute without wildcards). */
  facets?: string[];
  hits_per_page?: number;
}

export interface SortOption {
  value: string;
  label: string;
}

export interface PageModel {
  index: string;
  title: string;
  primaryKey: string | null;
  titleAttribute: string | null;
  displayedAttributes: string[] | null;
  urlAttribute: string | null;
  facets: string[];
  sort: SortOption[];
  hitsPerPage: number;
  rateLimit: { limit: number; window_s: number };
  sessionTtlS: number;
  /** How the page gets its session: `shared_key` asks the visitor for the key. */
  authMode: 'public' | 'shared_key' | 'oauth_proxy';
}

/** Plain attribute names of `filterableAttributes` (strings, or v1.50 objects' `attributePatterns`) without wildcards. */
export function facetAttributes(filterable: unknown): string[] {
  const out: string[] = [];
  const add = (name: unknown) => {
    if (typeof name === 'string' && !name.includes('*') && !name.startsWith('_') && !out.includes(name)) out.push(name);
  };
  if (!Array.isArray(filterable)) return out;
  for (const entry of filterable) {
    if (typeof entry === 'string') add(entry);
    else if (typeof entry === 'object' && entry !== null) {
      const patterns = (entry as { attributePatterns?: unknown }).attributePatterns;
      const features = (entry as { features?: { filter?: { equality?: unknown } } }).features;
      if (Array.isArray(patterns) && features?.filter?.equality !== false) for (const p of patterns) add(p);
    }
  }
  return out;
}

/** Relevance first, then each sortable attribute ascending and descending (instant-meilisearch's `index:attr:dir`). */
export function sortOptions(index: string, sortable: unknown): SortOption[] {
  const out: SortOption[] = [{ value: index, label: 'Relevance' }];
  if (!Array.isArray(sortable)) return out;
  for (const attr of sortable) {
    if (typeof attr !== 'string' || attr.includes('*') || attr.includes(':')) continue;
    out.push(
      { value: `${index}:${attr}:asc`, label: `${attr} (ascending)` },
      { value: `${index}:${attr}:desc`, label: `${attr} (descending)` },
    );
  }
  return out;
}

export function pageModel(input: {
  index: string;
  primaryKey: string | null;
  settings: Record<string, unknown>;
  config: SearchUiIndexConfig | null;
  rateLimit: { limit: number; window_s: number };
  sessionTtlS: number;
  authMode: PageModel['authMode'];
}): PageModel {
  const c = input.config ?? {};
  const facets = facetAttributes(input.settings.filterableAttributes);
  return {
    index: input.index,
    title: c.title ?? `Search ${input.index}`,
    primaryKey: input.primaryKey,
    titleAttribute: c.title_attribute ?? null,
    displayedAttributes: c.displayed_attributes ?? null,
    urlAttribute: c.url_attribute ?? null,
    facets: c.facets === undefined ? facets : c.facets.filter((f) => facets.includes(f)),
    sort: sortOptions(input.index, input.settings.sortableAttributes),
    hitsPerPage: c.hits_per_page ?? 10,
    rateLimit: input.rateLimit,
    sessionTtlS: input.sessionTtlS,
    authMode: input.authMode,
  };
}
