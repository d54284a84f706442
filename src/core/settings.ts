// Index settings as Meilisearch v1.50 has them: the 20 defaults, the sub-routes with their update verbs, the
// settings behind experimental features (`foreignKeys`, `chat`), and validation of a settings body (whole object or
// one sub-route) with the `invalid_settings_*` codes. Pure; the dev node applies settings, the proxy validates and
// stores logical settings with it.
import { booleanOf, isObject, membersOf, numberOf, stringOf, type JsonObject } from './types.js';
import { MeiliError, type ErrorCode } from './errors.js';
import { applyEmbeddersPatch, validateEmbedders } from './vectors.js';

export type Settings = Record<string, unknown>;

export function defaultSettings(): Settings {
  return {
    displayedAttributes: ['*'],
    searchableAttributes: ['*'],
    filterableAttributes: [],
    sortableAttributes: [],
    rankingRules: ['words', 'typo', 'proximity', 'attributeRank', 'sort', 'wordPosition', 'exactness'],
    stopWords: [],
    nonSeparatorTokens: [],
    separatorTokens: [],
    dictionary: [],
    synonyms: {},
    distinctAttribute: null,
    proximityPrecision: 'byWord',
    typoTolerance: {
      enabled: true,
      minWordSizeForTypos: { oneTypo: 5, twoTypos: 9 },
      disableOnWords: [],
      disableOnAttributes: [],
      disableOnNumbers: false,
    },
    faceting: { maxValuesPerFacet: 100, sortFacetValuesBy: { '*': 'alpha' } },
    pagination: { maxTotalHits: 1000 },
    embedders: {},
    searchCutoffMs: null,
    localizedAttributes: null,
    facetSearch: true,
    prefixSearch: 'indexingTime',
  };
}

type Verb = 'PUT' | 'PATCH';

/** kebab-case sub-route → camelCase key and update verb. */
export const SETTINGS_ROUTES: Readonly<Record<string, { key: string; updateVerb: Verb }>> = Object.freeze({
  'displayed-attributes': { key: 'displayedAttributes', updateVerb: 'PUT' },
  'searchable-attributes': { key: 'searchableAttributes', updateVerb: 'PUT' },
  'filterable-attributes': { key: 'filterableAttributes', updateVerb: 'PUT' },
  'sortable-attributes': { key: 'sortableAttributes', updateVerb: 'PUT' },
  'ranking-rules': { key: 'rankingRules', updateVerb: 'PUT' },
  'stop-words': { key: 'stopWords', updateVerb: 'PUT' },
  'non-separator-tokens': { key: 'nonSeparatorTokens', updateVerb: 'PUT' },
  'separator-tokens': { key: 'separatorTokens', updateVerb: 'PUT' },
  dictionary: { key: 'dictionary', updateVerb: 'PUT' },
  synonyms: { key: 'synonyms', updateVerb: 'PUT' },
  'distinct-attribute': { key: 'distinctAttribute', updateVerb: 'PUT' },
  'proximity-precision': { key: 'proximityPrecision', updateVerb: 'PUT' },
  'typo-tolerance': { key: 'typoTolerance', updateVerb: 'PATCH' },
  faceting: { key: 'faceting', updateVerb: 'PATCH' },
  pagination: { key: 'pagination', updateVerb: 'PATCH' },
  embedders: { key: 'embedders', updateVerb: 'PATCH' },
  'search-cutoff-ms': { key: 'searchCutoffMs', updateVerb: 'PUT' },
  'localized-attributes': { key: 'localizedAttributes', updateVerb: 'PUT' },
  'facet-search': { key: 'facetSearch', updateVerb: 'PUT' },
  'prefix-search': { key: 'prefixSearch', updateVerb: 'PUT' },
});

/**
 * Settings that exist behind an experimental feature (Meilisearch shows them in GET /settings only while the feature
 * is on, and setting one — not resetting it — needs the feature): the sub-route, update verb, default, where the
 * key sits in the settings object, and the feature that unlocks it.
 */
export const EXPERIMENTAL_SETTINGS: Readonly<
  Record<
    string,
    {
      route: string;
      updateVerb: Verb;
      feature: string;
      featureName: string;
      discussion: string;
      after: string | null;
      defaultValue: () => unknown;
    }
  >
> = Object.freeze({
  foreignKeys: {
    route: 'foreign-keys',
    updateVerb: 'PUT',
    feature: 'foreignKeys',
    featureName: 'foreign_keys',
    discussion: 'https://github.com/orgs/meilisearch/discussions/873',
    after: 'sortableAttributes',
    defaultValue: () => [],
  },
  chat: {
    route: 'chat',
    updateVerb: 'PATCH',
    feature: 'chatCompletions',
    featureName: 'chat completions',
    discussion: 'https://github.com/orgs/meilisearch/discussions/835',
    after: null,
    defaultValue: () => ({
      description: '',
      documentTemplate:
        '{% for field in fields %}{% if field.is_searchable and field.value != nil %}{{ field.name }}: {{ field.value }}\n{% endif %}{% endfor %}',
      documentTemplateMaxBytes: 400,
      searchParameters: {},
    }),
  },
});

/** Every settings sub-route, the experimental ones included. */
export const ALL_SETTINGS_ROUTES: Readonly<Record<string, { key: string; updateVerb: Verb }>> = Object.freeze({
  ...SETTINGS_ROUTES,
  ...Object.fromEntries(
    Object.entries(EXPERIMENTAL_SETTINGS).map(([key, e]) => [e.route, { key, updateVerb: e.updateVerb }]),
  ),
});

const SETTING_KEYS = Object.values(SETTINGS_ROUTES).map((r) => r.key);
/** Every key a settings object may hold, in Meilisearch's order (its unknown-field message lists them so). */
const ALL_SETTING_KEYS = [
  ...SETTING_KEYS.slice(0, 4),
  'foreignKeys',
  ...SETTING_KEYS.slice(4).filter((k) => k !== 'proximityPrecision' && k !== 'typoTolerance'),
  'chat',
];
{
  // Meilisearch's order: … synonyms, distinctAttribute, proximityPrecision, typoTolerance, faceting, …
  const at = ALL_SETTING_KEYS.indexOf('distinctAttribute') + 1;
  ALL_SETTING_KEYS.splice(at, 0, 'proximityPrecision', 'typoTolerance');
}

/** Experimental features as the node reports them (`GET /experimental-features`), for the gated settings. */
export type SettingsFeatures = Readonly<Record<string, boolean | null | undefined>>;

/**
 * The settings object as GET /settings shows it: the stored settings plus each experimental setting whose feature
 * is on (its stored value or default), in Meilisearch's key order.
 */
export function settingsView(stored: Settings, features: SettingsFeatures): Settings {
  const out: Settings = {};
  const experimental = Object.entries(EXPERIMENTAL_SETTINGS).filter(([, e]) => features[e.feature] === true);
  for (const [k, v] of Object.entries(stored)) {
    if (k in EXPERIMENTAL_SETTINGS) continue;
    out[k] = v;
    for (const [key, e] of experimental) if (e.after === k) out[key] = stored[key] ?? e.defaultValue();
  }
  for (const [key, e] of experimental) if (e.after === null) out[key] = stored[key] ?? e.defaultValue();
  return out;
}

/** One setting's current value (sub-route GET), the experimental ones included whatever the features. */
export function settingValue(stored: Settings, key: string): unknown {
  const e = EXPERIMENTAL_SETTINGS[key];
  return e !== undefined ? (stored[key] ?? e.defaultValue()) : stored[key];
}

function codeFor(key: string): ErrorCode {
  return `invalid_settings_${key.replace(/[A-Z]/g, (c) => '_' + c.toLowerCase())}` as ErrorCode;
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'a string';
  if (typeof v === 'number')
    return Number.isInteger(v) ? (v < 0 ? 'a negative integer' : 'a positive integer') : 'a number';
  if (typeof v === 'boolean') return 'a boolean';
  return typeof v;
}

/** How Meilisearch's deserializer names a wrong value: `null`, or its kind and JSON (`a string: \`"x"\``). */
export function foundValue(v: unknown): string {
  return v === null ? 'null' : `${typeName(v)}: \`${JSON.stringify(v)}\``;
}

/** `at \`path\`` for a path inside the body, nothing for the body itself (a sub-route's whole value). */
function atPath(path: string): string {
  return path === '' ? '' : ` at \`${path}\``;
}

function wrongType(key: string, path: string, expected: string, v: unknown): MeiliError {
  return new MeiliError(
    codeFor(key),
    `Invalid value type${atPath(path)}: expected ${expected}, but found ${foundValue(v)}`,
  );
}

function stringArray(key: string, v: unknown, path = `.${key}`): string[] {
  if (!Array.isArray(v)) throw wrongType(key, path, 'an array', v);
  const out = new Set<string>();
  v.forEach((x: unknown, i) => {
    if (typeof x !== 'string') throw wrongType(key, `${path}[${i}]`, 'a string', x);
    out.add(x);
  });
  return [...out];
}

function objectOf(key: string, v: unknown, path: string): JsonObject {
  if (!isObject(v)) throw wrongType(key, path, 'an object', v);
  return v;
}

function unknownField(key: string, path: string, field: string, expected: string[]): MeiliError {
  const inside = path === '' ? '' : ` inside \`${path}\``;
  return new MeiliError(
    codeFor(key),
    `Unknown field \`${field}\`${inside}: expected one of ${expected.map((e) => `\`${e}\``).join(', ')}`,
  );
}

/** Settings Meilisearch keeps as sorted sets. */
const SORTED_SETTINGS = new Set([
  'sortableAttributes',
  'stopWords',
  'nonSeparatorTokens',
  'separatorTokens',
  'dictionary',
]);
const RULE_RE = /^([^:\s]+):(asc|desc)$/;
const BUILTIN_RULES = new Set([
  'words',
  'typo',
  'proximity',
  'attribute',
  'attributeRank',
  'wordPosition',
  'sort',
  'exactness',
]);

function uintOrNull(key: string, v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw wrongType(key, path, 'a positive integer', v);
  return v;
}

/** Validates one setting's new value (never null: null means reset and is handled by the caller). */
function validateOne(key: string, v: unknown, current: Settings, path = `.${key}`): unknown {
  switch (key) {
    case 'displayedAttributes':
    case 'searchableAttributes':
    case 'sortableAttributes':
    case 'stopWords':
    case 'nonSeparatorTokens':
    case 'separatorTokens':
    case 'dictionary':
      return SORTED_SETTINGS.has(key) ? stringArray(key, v, path).sort() : stringArray(key, v, path);
    case 'filterableAttributes': {
      if (!Array.isArray(v)) throw wrongType(key, path, 'an array', v);
      return v.map((x, i) => {
        if (typeof x === 'string') return x;
        const o = objectOf(key, x, `${path}[${i}]`);
        for (const f of Object.keys(o))
          if (f !== 'attributePatterns' && f !== 'features')
            throw unknownField(key, `${path}[${i}]`, f, ['attributePatterns', 'features']);
        const patterns = stringArray(key, o.attributePatterns ?? [], `${path}[${i}].attributePatterns`);
        const features = o.features === undefined ? {} : objectOf(key, o.features, `${path}[${i}].features`);
        const filter =
          features.filter === undefined ? {} : objectOf(key, features.filter, `${path}[${i}].features.filter`);
        for (const [fk, fv] of Object.entries(filter)) {
          if (fk !== 'equality' && fk !== 'comparison')
            throw unknownField(key, `${path}[${i}].features.filter`, fk, ['equality', 'comparison']);
          if (typeof fv !== 'boolean') throw wrongType(key, `${path}[${i}].features.filter.${fk}`, 'a boolean', fv);
        }
        if (features.facetSearch !== undefined && typeof features.facetSearch !== 'boolean')
          throw wrongType(key, `${path}[${i}].features.facetSearch`, 'a boolean', features.facetSearch);
        return {
          attributePatterns: patterns,
          features: {
            facetSearch: features.facetSearch ?? false,
            filter: {
              equality: booleanOf(filter.equality) ?? true,
              comparison: booleanOf(filter.comparison) ?? false,
            },
          },
        };
      });
    }
    case 'rankingRules': {
      const rules = stringArray(key, v, path);
      if (rules.includes('attribute') && (rules.includes('attributeRank') || rules.includes('wordPosition'))) {
        throw new MeiliError(
          codeFor(key),
          'Mixed usage of the attribute, attributeRank, and wordPosition ranking rules. You must either use the attribute ranking rule alone or the attributeRank and wordPosition ranking rules.',
        );
      }
      rules.forEach((r, i) => {
        if (!BUILTIN_RULES.has(r) && !RULE_RE.test(r)) {
          throw new MeiliError(
            codeFor(key),
            `Invalid value at \`${path}[${i}]\`: \`${r}\` ranking rule is invalid. Valid ranking rules are words, typo, sort, proximity, attribute, exactness and custom ranking rules.`,
          );
        }
      });
      return rules;
    }
    case 'synonyms': {
      const o = objectOf(key, v, path);
      const out: Record<string, string[]> = {};
      for (const [k, list] of Object.entries(o)) out[k] = stringArray(key, list, `${path}.${k}`);
      return out;
    }
    case 'distinctAttribute':
      if (typeof v !== 'string') throw wrongType(key, path, 'a string', v);
      return v;
    case 'proximityPrecision':
      if (v !== 'byWord' && v !== 'byAttribute') {
        throw new MeiliError(
          codeFor(key),
          `Unknown value \`${String(v)}\`${atPath(path)}: expected one of \`byWord\`, \`byAttribute\``,
        );
      }
      return v;
    case 'typoTolerance': {
      const o = objectOf(key, v, path);
      const cur = membersOf(current.typoTolerance);
      const out: Record<string, unknown> = { ...cur };
      const fields = ['enabled', 'minWordSizeForTypos', 'disableOnWords', 'disableOnAttributes', 'disableOnNumbers'];
      for (const [f, fv] of Object.entries(o)) {
        if (!fields.includes(f)) throw unknownField(key, path, f, fields);
        if (fv === null) {
          out[f] = membersOf(defaultSettings().typoTolerance)[f];
          continue;
        }
        if (f === 'enabled' || f === 'disableOnNumbers') {
          if (typeof fv !== 'boolean') throw wrongType(key, `${path}.${f}`, 'a boolean', fv);
          out[f] = fv;
        } else if (f === 'disableOnWords' || f === 'disableOnAttributes') {
          out[f] = stringArray(key, fv, `${path}.${f}`);
        } else {
          const m = objectOf(key, fv, `${path}.${f}`);
          const min = membersOf(cur.minWordSizeForTypos);
          const sizes = { oneTypo: numberOf(min.oneTypo) ?? 5, twoTypos: numberOf(min.twoTypos) ?? 9 };
          for (const [sk, sv] of Object.entries(m)) {
            if (sk !== 'oneTypo' && sk !== 'twoTypos')
              throw unknownField(key, `${path}.${f}`, sk, ['oneTypo', 'twoTypos']);
            sizes[sk] = sv === null ? (sk === 'oneTypo' ? 5 : 9) : uintOrNull(key, sv, `${path}.${f}.${sk}`);
          }
          if (sizes.oneTypo > sizes.twoTypos) {
            throw new MeiliError(
              codeFor(key),
              '`minWordSizeForTypos` setting is invalid. `oneTypo` and `twoTypos` fields should be between `0` and `255`, and `twoTypos` should be greater or equals to `oneTypo` but found `oneTypo: ' +
                sizes.oneTypo +
                '` and twoTypos: `' +
                sizes.twoTypos +
                '`.',
            );
          }
          out[f] = sizes;
        }
      }
      return out;
    }
    case 'faceting': {
      const o = objectOf(key, v, path);
      const cur = membersOf(current.faceting);
      const out: Record<string, unknown> = { ...cur };
      for (const [f, fv] of Object.entries(o)) {
        if (f === 'maxValuesPerFacet') out[f] = fv === null ? 100 : uintOrNull(key, fv, `${path}.${f}`);
        else if (f === 'sortFacetValuesBy') {
          if (fv === null) {
            out[f] = { '*': 'alpha' };
            continue;
          }
          const m = objectOf(key, fv, `${path}.${f}`);
          const merged: Record<string, string> = { '*': 'alpha' };
          for (const [fk, order] of Object.entries(m)) {
            if (order !== 'alpha' && order !== 'count')
              throw new MeiliError(
                codeFor(key),
                `Unknown value \`${String(order)}\` at \`${path}.${f}.${fk}\`: expected one of \`alpha\`, \`count\``,
              );
            merged[fk] = order;
          }
          out[f] = merged;
        } else throw unknownField(key, path, f, ['maxValuesPerFacet', 'sortFacetValuesBy']);
      }
      return out;
    }
    case 'pagination': {
      const o = objectOf(key, v, path);
      const out: JsonObject = { ...membersOf(current.pagination) };
      for (const [f, fv] of Object.entries(o)) {
        if (f !== 'maxTotalHits') throw unknownField(key, path, f, ['maxTotalHits']);
        out[f] = fv === null ? 1000 : uintOrNull(key, fv, `${path}.${f}`);
        if (out[f] === 0) {
          throw new MeiliError(
            codeFor(key),
            `Invalid value at \`${path}.${f}\`: a non-zero integer value lower than \`18446744073709551615\` was expected, but found a zero`,
          );
        }
      }
      return out;
    }
    case 'embedders':
      return validateEmbedders(v, current.embedders, path);
    case 'searchCutoffMs':
      return uintOrNull(key, v, path);
    case 'localizedAttributes': {
      if (!Array.isArray(v)) throw wrongType(key, path, 'an array', v);
      return v.map((x, i) => {
        const o = objectOf(key, x, `${path}[${i}]`);
        return {
          attributePatterns: stringArray(key, o.attributePatterns ?? [], `${path}[${i}].attributePatterns`),
          locales: stringArray(key, o.locales ?? [], `${path}[${i}].locales`),
        };
      });
    }
    case 'facetSearch':
      if (typeof v !== 'boolean') throw wrongType(key, path, 'a boolean', v);
      return v;
    case 'prefixSearch':
      if (v !== 'indexingTime' && v !== 'disabled') {
        throw new MeiliError(
          codeFor(key),
          `Unknown value \`${String(v)}\`${atPath(path)}: expected one of \`indexingTime\`, \`disabled\``,
        );
      }
      return v;
    case 'foreignKeys': {
      if (!Array.isArray(v)) throw wrongType(key, path, 'an array', v);
      return v.map((x, i) => {
        const at = `${path}[${i}]`;
        const o = objectOf(key, x, at);
        const fields = ['foreignIndexUid', 'fieldName'];
        for (const f of Object.keys(o)) if (!fields.includes(f)) throw unknownField(key, at, f, fields);
        for (const f of fields) {
          if (o[f] === undefined) throw new MeiliError(codeFor(key), `Missing field \`${f}\` inside \`${at}\``);
          if (typeof o[f] !== 'string') throw wrongType(key, `${at}.${f}`, 'a string', o[f]);
        }
        return { foreignIndexUid: o.foreignIndexUid, fieldName: o.fieldName };
      });
    }
    case 'chat': {
      const o = objectOf('indexChat', v, path);
      const cur = membersOf(current.chat ?? EXPERIMENTAL_SETTINGS.chat!.defaultValue());
      const out: Record<string, unknown> = { ...cur };
      const fields = ['description', 'documentTemplate', 'documentTemplateMaxBytes', 'searchParameters'];
      for (const [f, fv] of Object.entries(o)) {
        if (!fields.includes(f)) throw unknownField('indexChat', path, f, fields);
        const dflt = membersOf(EXPERIMENTAL_SETTINGS.chat!.defaultValue())[f];
        if (fv === null) out[f] = dflt;
        else if (f === 'documentTemplateMaxBytes') out[f] = uintOrNull('indexChat', fv, `${path}.${f}`);
        else if (f === 'searchParameters')
          out[f] = {
            ...membersOf(cur.searchParameters),
            ...objectOf('indexChat', fv, `${path}.${f}`),
          };
        else {
          if (typeof fv !== 'string') throw wrongType('indexChat', `${path}.${f}`, 'a string', fv);
          out[f] = fv;
        }
      }
      return out;
    }
  }
  throw new MeiliError('bad_request', `Unknown field \`${key}\``);
}

/**
 * Validates a settings body. `route` null = PATCH /settings (an object of settings); otherwise the kebab-case
 * sub-route and the body is that setting's value. Returns a patch keyed by camelCase setting name where `null`
 * means "reset to default". `current` gives the base for nested PATCH-style settings.
 */
export function validateSettings(
  body: unknown,
  route: string | null,
  current: Settings = defaultSettings(),
  features: SettingsFeatures = {},
): Settings {
  if (route !== null) {
    const spec = ALL_SETTINGS_ROUTES[route];
    if (spec === undefined) throw new MeiliError('bad_request', `Unknown settings route \`${route}\``);
    const value = body === null ? null : validateOne(spec.key, body, current, '');
    checkFeature(spec.key, value, features);
    return { [spec.key]: value };
  }
  if (!isObject(body)) {
    throw new MeiliError('bad_request', `Invalid value type: expected an object, but found ${foundValue(body)}`);
  }
  const out: Settings = {};
  for (const [key, value] of Object.entries(body)) {
    if (!ALL_SETTING_KEYS.includes(key)) {
      throw new MeiliError(
        'bad_request',
        `Unknown field \`${key}\`: expected one of ${ALL_SETTING_KEYS.map((k) => `\`${k}\``).join(', ')}`,
      );
    }
    out[key] = value === null ? null : validateOne(key, value, current);
  }
  for (const [key, value] of Object.entries(out)) checkFeature(key, value, features);
  return out;
}

/** Setting (not resetting) an experimental setting needs its feature: 400 feature_not_enabled as Meilisearch. */
/** Whether an update (whole settings body, or one route's value) sets an experimental setting to a value. */
export function touchesExperimentalSetting(body: unknown, route: string | null): boolean {
  if (route !== null) return ALL_SETTINGS_ROUTES[route]?.key in EXPERIMENTAL_SETTINGS && body !== null;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return false;
  return Object.entries(body).some(([k, v]) => k in EXPERIMENTAL_SETTINGS && v !== null);
}

function checkFeature(key: string, value: unknown, features: SettingsFeatures): void {
  const e = EXPERIMENTAL_SETTINGS[key];
  if (e === undefined || value === null || features[e.feature] === true) return;
  throw new MeiliError(
    'feature_not_enabled',
    `setting \`${key}\` in the index settings requires enabling the \`${e.featureName}\` experimental feature. See ${e.discussion}`,
  );
}

/** Applies a validated patch to settings (null resets that key). */
export function applySettingsPatch(current: Settings, patch: Settings): Settings {
  const defaults = defaultSettings();
  const next: Settings = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (key in EXPERIMENTAL_SETTINGS && value === null) delete next[key];
    else if (key === 'embedders' && value !== null) next[key] = applyEmbeddersPatch(current.embedders, value);
    else next[key] = value === null ? defaults[key] : value;
  }
  return next;
}

/**
 * The task details of `DELETE /indexes/{uid}/settings`: Meilisearch resets every setting, and its details list each
 * one as `null`, in the order of its settings object (foreign keys and chat included).
 */
export function resetAllDetails(): Settings {
  const keys = [
    'displayedAttributes',
    'searchableAttributes',
    'filterableAttributes',
    'sortableAttributes',
    'foreignKeys',
    'rankingRules',
    'stopWords',
    'nonSeparatorTokens',
    'separatorTokens',
    'dictionary',
    'synonyms',
    'distinctAttribute',
    'proximityPrecision',
    'typoTolerance',
    'faceting',
    'pagination',
    'embedders',
    'searchCutoffMs',
    'localizedAttributes',
    'facetSearch',
    'prefixSearch',
    'chat',
  ];
  return Object.fromEntries(keys.map((k) => [k, null]));
}

/** `pagination.maxTotalHits` of an index's settings (Meilisearch's default when absent). */
export function maxTotalHitsOf(settings: Settings): number {
  return numberOf(membersOf(settings.pagination).maxTotalHits) ?? 1000;
}

/** The `faceting` setting of an index's settings, read through guards (defaults where absent). */
export function facetingOf(settings: Settings): {
  maxValuesPerFacet: number;
  sortFacetValuesBy: Record<string, string>;
} {
  const f = membersOf(settings.faceting);
  const sortFacetValuesBy: Record<string, string> = {};
  for (const [k, v] of Object.entries(membersOf(f.sortFacetValuesBy)))
    if (typeof v === 'string') sortFacetValuesBy[k] = v;
  return { maxValuesPerFacet: numberOf(f.maxValuesPerFacet) ?? 100, sortFacetValuesBy };
}

/** `distinctAttribute` of an index's settings (null when unset). */
export function distinctAttributeOf(settings: Settings): string | null {
  return stringOf(settings.distinctAttribute) ?? null;
}
