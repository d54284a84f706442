// Index settings as Meilisearch v1.50 has them: the 20 defaults, the sub-routes with their update verbs, the
// settings behind experimental features (`foreignKeys`, `chat`), and validation of a settings body (whole object or
// one sub-route) with the `invalid_settings_*` codes. Pure; the dev node applies settings, the proxy validates and
// stores logical settings with it.
import { isObject, membersOf, numberOf, stringOf, stringsOf, type JsonObject } from './types.js';
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

function objectOf(code: string, v: unknown, path: string): JsonObject {
  if (!isObject(v)) throw wrongType(code, path, 'an object', v);
  return v;
}

function unknownField(code: string, path: string, field: string, expected: string[]): MeiliError {
  const inside = path === '' ? '' : ` inside \`${path}\``;
  return new MeiliError(
    codeFor(code),
    `Unknown field \`${field}\`${inside}: expected one of ${expected.map((e) => `\`${e}\``).join(', ')}`,
  );
}

// ---- The declarative settings validator: a spec per setting, one interpreter (`walk`) -----------------------------

/** A named cross-field rule: the error message for a valid-typed value Meilisearch still refuses, if any. */
type Rule = (value: unknown, path: string) => string | undefined;

/** How a PATCH-style object starts before the body's fields are applied. */
type Base =
  | 'current' // the current value's fields (Meilisearch merges nested settings)
  | 'currentOrDefault' // the current value, or the default when there is none
  | 'currentNumbers' // each field: the current value when a number, else the field's default
  | 'defaults'; // each field's default

interface Common {
  /** Output when the field is absent (item objects) or null (when `nullable`). */
  default?: () => unknown;
  /** `null` resets the field to its default (otherwise null is a wrong type). */
  nullable?: true;
  check?: Rule;
}

type Spec = Common &
  (
    | { kind: 'string' }
    | { kind: 'boolean' }
    | { kind: 'uint' }
    | { kind: 'enum'; values: readonly string[] }
    /** An array of strings, deduplicated in first-seen order; `sorted` for the settings Meilisearch keeps sorted. */
    | { kind: 'strings'; sorted?: true }
    /** An object of free keys, each value of `of`, applied over `base`. */
    | { kind: 'record'; of: Spec; base: () => JsonObject }
    | { kind: 'array'; of: Spec }
    | { kind: 'stringOr'; object: Spec }
    /** A PATCH-style object: the body's fields in its order, each applied over `base`. */
    | { kind: 'patch'; fields: Readonly<Record<string, Spec>>; base: Base; unknown: 'reject' | 'keep' }
    /**
     * A whole object (an array item): unknown fields first, then each field in spec order (absent → its default,
     * or a missing-field error); `keys` orders the output when it differs.
     */
    | { kind: 'item'; fields: Readonly<Record<string, Spec>>; unknown: 'reject' | 'ignore'; keys?: readonly string[] }
    | { kind: 'custom'; validate: (v: unknown, current: unknown, path: string) => unknown }
  );

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

/** Ranking rules: `attribute` alone or `attributeRank`/`wordPosition`, and each rule built-in or `field:asc|desc`. */
const rankingRuleSyntax: Rule = (v, path) => {
  const rules = stringsOf(v) ?? [];
  if (rules.includes('attribute') && (rules.includes('attributeRank') || rules.includes('wordPosition')))
    return 'Mixed usage of the attribute, attributeRank, and wordPosition ranking rules. You must either use the attribute ranking rule alone or the attributeRank and wordPosition ranking rules.';
  const i = rules.findIndex((r) => !BUILTIN_RULES.has(r) && !RULE_RE.test(r));
  if (i >= 0)
    return `Invalid value at \`${path}[${i}]\`: \`${rules[i]}\` ranking rule is invalid. Valid ranking rules are words, typo, sort, proximity, attribute, exactness and custom ranking rules.`;
  return undefined;
};

/** `minWordSizeForTypos`: `oneTypo` ≤ `twoTypos`. */
const typoSizesOrdered: Rule = (v) => {
  const m = membersOf(v);
  const one = numberOf(m.oneTypo) ?? 0;
  const two = numberOf(m.twoTypos) ?? 0;
  if (one <= two) return undefined;
  return (
    '`minWordSizeForTypos` setting is invalid. `oneTypo` and `twoTypos` fields should be between `0` and `255`, and `twoTypos` should be greater or equals to `oneTypo` but found `oneTypo: ' +
    one +
    '` and twoTypos: `' +
    two +
    '`.'
  );
};

/** `pagination.maxTotalHits` is a non-zero integer. */
const nonZero: Rule = (v, path) =>
  v === 0
    ? `Invalid value at \`${path}\`: a non-zero integer value lower than \`18446744073709551615\` was expected, but found a zero`
    : undefined;

/** A field of a default settings object (fresh on each call). */
function defaultOf(get: () => unknown, field: string): () => unknown {
  return () => membersOf(get())[field];
}
const typoDefault = (f: string): (() => unknown) => defaultOf(() => defaultSettings().typoTolerance, f);
const chatDefault = (f: string): (() => unknown) => defaultOf(() => EXPERIMENTAL_SETTINGS.chat?.defaultValue(), f);

const STRINGS: Spec = { kind: 'strings' };
const SORTED: Spec = { kind: 'strings', sorted: true };
const emptyList = (): unknown[] => [];
/** A string list inside an object: absent or null is empty. */
const OPTIONAL_STRINGS: Spec = { kind: 'strings', default: emptyList, nullable: true };

/** Every setting's spec (the walk's input; `walk` is the one interpreter). */
const SETTINGS_SPEC: Readonly<Record<string, Spec>> = {
  displayedAttributes: STRINGS,
  searchableAttributes: STRINGS,
  filterableAttributes: {
    kind: 'array',
    of: {
      kind: 'stringOr',
      object: {
        kind: 'item',
        unknown: 'reject',
        fields: {
          attributePatterns: OPTIONAL_STRINGS,
          features: {
            kind: 'item',
            unknown: 'ignore',
            keys: ['facetSearch', 'filter'],
            fields: {
              filter: {
                kind: 'patch',
                base: 'defaults',
                unknown: 'reject',
                fields: {
                  equality: { kind: 'boolean', default: () => true },
                  comparison: { kind: 'boolean', default: () => false },
                },
              },
              facetSearch: { kind: 'boolean', default: () => false },
            },
          },
        },
      },
    },
  },
  sortableAttributes: SORTED,
  rankingRules: { kind: 'strings', check: rankingRuleSyntax },
  stopWords: SORTED,
  nonSeparatorTokens: SORTED,
  separatorTokens: SORTED,
  dictionary: SORTED,
  synonyms: { kind: 'record', of: STRINGS, base: () => ({}) },
  distinctAttribute: { kind: 'string' },
  proximityPrecision: { kind: 'enum', values: ['byWord', 'byAttribute'] },
  typoTolerance: {
    kind: 'patch',
    base: 'current',
    unknown: 'reject',
    fields: {
      enabled: { kind: 'boolean', nullable: true, default: typoDefault('enabled') },
      minWordSizeForTypos: {
        kind: 'patch',
        base: 'currentNumbers',
        unknown: 'reject',
        nullable: true,
        default: typoDefault('minWordSizeForTypos'),
        check: typoSizesOrdered,
        fields: {
          oneTypo: { kind: 'uint', nullable: true, default: () => 5 },
          twoTypos: { kind: 'uint', nullable: true, default: () => 9 },
        },
      },
      disableOnWords: { kind: 'strings', nullable: true, default: typoDefault('disableOnWords') },
      disableOnAttributes: { kind: 'strings', nullable: true, default: typoDefault('disableOnAttributes') },
      disableOnNumbers: { kind: 'boolean', nullable: true, default: typoDefault('disableOnNumbers') },
    },
  },
  faceting: {
    kind: 'patch',
    base: 'current',
    unknown: 'reject',
    fields: {
      maxValuesPerFacet: { kind: 'uint', nullable: true, default: () => 100 },
      sortFacetValuesBy: {
        kind: 'record',
        of: { kind: 'enum', values: ['alpha', 'count'] },
        base: () => ({ '*': 'alpha' }),
        nullable: true,
        default: () => ({ '*': 'alpha' }),
      },
    },
  },
  pagination: {
    kind: 'patch',
    base: 'current',
    unknown: 'reject',
    fields: { maxTotalHits: { kind: 'uint', nullable: true, default: () => 1000, check: nonZero } },
  },
  embedders: { kind: 'custom', validate: (v, current, path) => validateEmbedders(v, current, path) },
  searchCutoffMs: { kind: 'uint' },
  localizedAttributes: {
    kind: 'array',
    of: { kind: 'item', unknown: 'ignore', fields: { attributePatterns: OPTIONAL_STRINGS, locales: OPTIONAL_STRINGS } },
  },
  facetSearch: { kind: 'boolean' },
  prefixSearch: { kind: 'enum', values: ['indexingTime', 'disabled'] },
  foreignKeys: {
    kind: 'array',
    of: {
      kind: 'item',
      unknown: 'reject',
      fields: { foreignIndexUid: { kind: 'string' }, fieldName: { kind: 'string' } },
    },
  },
  chat: {
    kind: 'patch',
    base: 'currentOrDefault',
    unknown: 'reject',
    default: () => EXPERIMENTAL_SETTINGS.chat?.defaultValue(),
    fields: {
      description: { kind: 'string', nullable: true, default: chatDefault('description') },
      documentTemplate: { kind: 'string', nullable: true, default: chatDefault('documentTemplate') },
      documentTemplateMaxBytes: { kind: 'uint', nullable: true, default: chatDefault('documentTemplateMaxBytes') },
      searchParameters: {
        kind: 'patch',
        base: 'current',
        unknown: 'keep',
        fields: {},
        nullable: true,
        default: chatDefault('searchParameters'),
      },
    },
  },
};
/** The key a setting's error codes are named after when it differs from the setting (`chat` → `indexChat`). */
const CODE_KEYS: Readonly<Record<string, string>> = { chat: 'indexChat' };

function fieldOf(fields: Readonly<Record<string, Spec>>, f: string): Spec | undefined {
  return Object.hasOwn(fields, f) ? fields[f] : undefined;
}

/** A spec's default output: its own, or an object of its fields' defaults (undefined when one has none). */
function specDefault(spec: Spec): unknown {
  if (spec.default !== undefined) return spec.default();
  if (spec.kind !== 'item' && spec.kind !== 'patch') return undefined;
  const keys = (spec.kind === 'item' ? spec.keys : undefined) ?? Object.keys(spec.fields);
  const out: JsonObject = {};
  for (const k of keys) {
    const field = fieldOf(spec.fields, k);
    const d = field === undefined ? undefined : specDefault(field);
    if (d === undefined) return undefined;
    out[k] = d;
  }
  return out;
}

function patchBase(spec: Spec & { kind: 'patch' }, current: unknown): JsonObject {
  switch (spec.base) {
    case 'current':
      return { ...membersOf(current) };
    case 'currentOrDefault':
      return { ...membersOf(current ?? specDefault(spec)) };
    case 'currentNumbers':
    case 'defaults': {
      const cur = membersOf(current);
      const out: JsonObject = {};
      for (const [f, field] of Object.entries(spec.fields))
        out[f] = (spec.base === 'currentNumbers' ? numberOf(cur[f]) : undefined) ?? specDefault(field);
      return out;
    }
  }
}

/**
 * The interpreter: validates `v` against `spec` at `path` (errors carry `code`'s `invalid_settings_*` code) and
 * returns the stored value. `current` is the value it replaces, the base of PATCH-style objects.
 */
function walk(spec: Spec, v: unknown, current: unknown, path: string, code: string): unknown {
  const out = walkKind(spec, v, current, path, code);
  const message = spec.check?.(out, path);
  if (message !== undefined) throw new MeiliError(codeFor(code), message);
  return out;
}

function walkKind(spec: Spec, v: unknown, current: unknown, path: string, code: string): unknown {
  switch (spec.kind) {
    case 'string':
    case 'boolean':
      if (typeof v !== spec.kind) throw wrongType(code, path, `a ${spec.kind}`, v);
      return v;
    case 'uint':
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw wrongType(code, path, 'a positive integer', v);
      return v;
    case 'enum':
      if (typeof v !== 'string' || !spec.values.includes(v)) {
        throw new MeiliError(
          codeFor(code),
          `Unknown value \`${String(v)}\`${atPath(path)}: expected one of ${spec.values.map((x) => `\`${x}\``).join(', ')}`,
        );
      }
      return v;
    case 'strings': {
      if (!Array.isArray(v)) throw wrongType(code, path, 'an array', v);
      const out = new Set<string>();
      v.forEach((x: unknown, i) => {
        if (typeof x !== 'string') throw wrongType(code, `${path}[${i}]`, 'a string', x);
        out.add(x);
      });
      return spec.sorted === true ? [...out].sort() : [...out];
    }
    case 'record': {
      const o = objectOf(code, v, path);
      const out = spec.base();
      for (const [k, x] of Object.entries(o)) out[k] = walk(spec.of, x, undefined, `${path}.${k}`, code);
      return out;
    }
    case 'array':
      if (!Array.isArray(v)) throw wrongType(code, path, 'an array', v);
      return v.map((x: unknown, i) => walk(spec.of, x, undefined, `${path}[${i}]`, code));
    case 'stringOr':
      return typeof v === 'string' ? v : walk(spec.object, v, undefined, path, code);
    case 'patch': {
      const o = objectOf(code, v, path);
      const out = patchBase(spec, current);
      for (const [f, x] of Object.entries(o)) {
        const field = fieldOf(spec.fields, f);
        if (field === undefined) {
          if (spec.unknown === 'reject') throw unknownField(code, path, f, Object.keys(spec.fields));
          out[f] = x;
        } else
          out[f] =
            x === null && field.nullable === true ? specDefault(field) : walk(field, x, out[f], `${path}.${f}`, code);
      }
      return out;
    }
    case 'item': {
      const o = objectOf(code, v, path);
      if (spec.unknown === 'reject')
        for (const f of Object.keys(o))
          if (fieldOf(spec.fields, f) === undefined) throw unknownField(code, path, f, Object.keys(spec.fields));
      const values: JsonObject = {};
      for (const [f, field] of Object.entries(spec.fields)) {
        const x = o[f];
        if (x === undefined || (x === null && field.nullable === true)) {
          const d = specDefault(field);
          if (d === undefined) throw new MeiliError(codeFor(code), `Missing field \`${f}\` inside \`${path}\``);
          values[f] = d;
        } else values[f] = walk(field, x, undefined, `${path}.${f}`, code);
      }
      if (spec.keys === undefined) return values;
      const out: JsonObject = {};
      for (const k of spec.keys) out[k] = values[k];
      return out;
    }
    case 'custom':
      return spec.validate(v, current, path);
  }
}

/** Validates one setting's new value (never null: null means reset and is handled by the caller). */
function validateOne(key: string, v: unknown, current: Settings, path = `.${key}`): unknown {
  const spec = fieldOf(SETTINGS_SPEC, key);
  if (spec === undefined) throw new MeiliError('bad_request', `Unknown field \`${key}\``);
  return walk(spec, v, current[key], path, CODE_KEYS[key] ?? key);
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
