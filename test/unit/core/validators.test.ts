// Unit tests per error code of the two declarative validators: the settings validator (core/settings.ts) and the
// read-parameter validator (core/search-params.ts: search, documents fetch, facet search, multi-search). Each row is
// a wrong value and the exact code and message Meilisearch v1.50 answers for it (taken from its own tests where they
// name it; the conformance replay checks the rest against its snapshots).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeiliError } from '../../../src/core/errors.js';
import { defaultSettings, validateSettings } from '../../../src/core/settings.js';
import {
  parseDocumentsQuery,
  parseFacetSearchQuery,
  parseMultiSearch,
  parseSearchQuery,
} from '../../../src/core/search-params.js';

function refused(run: () => unknown): { code: string; message: string } {
  try {
    run();
  } catch (err) {
    assert.ok(err instanceof MeiliError, `expected a MeiliError, got ${String(err)}`);
    return { code: err.code, message: err.message };
  }
  assert.fail('expected the value to be refused');
}

const ALL_FEATURES = { foreignKeys: true, chatCompletions: true };

/** [setting, wrong value, code, message] — one per setting. */
const SETTINGS_WRONG_TYPE: Array<[string, unknown, string, string]> = [
  [
    'displayedAttributes',
    42,
    'invalid_settings_displayed_attributes',
    'Invalid value type at `.displayedAttributes`: expected an array, but found a positive integer: `42`',
  ],
  [
    'searchableAttributes',
    42,
    'invalid_settings_searchable_attributes',
    'Invalid value type at `.searchableAttributes`: expected an array, but found a positive integer: `42`',
  ],
  [
    'filterableAttributes',
    42,
    'invalid_settings_filterable_attributes',
    'Invalid value type at `.filterableAttributes`: expected an array, but found a positive integer: `42`',
  ],
  [
    'sortableAttributes',
    42,
    'invalid_settings_sortable_attributes',
    'Invalid value type at `.sortableAttributes`: expected an array, but found a positive integer: `42`',
  ],
  [
    'rankingRules',
    42,
    'invalid_settings_ranking_rules',
    'Invalid value type at `.rankingRules`: expected an array, but found a positive integer: `42`',
  ],
  [
    'stopWords',
    42,
    'invalid_settings_stop_words',
    'Invalid value type at `.stopWords`: expected an array, but found a positive integer: `42`',
  ],
  [
    'nonSeparatorTokens',
    42,
    'invalid_settings_non_separator_tokens',
    'Invalid value type at `.nonSeparatorTokens`: expected an array, but found a positive integer: `42`',
  ],
  [
    'separatorTokens',
    42,
    'invalid_settings_separator_tokens',
    'Invalid value type at `.separatorTokens`: expected an array, but found a positive integer: `42`',
  ],
  [
    'dictionary',
    42,
    'invalid_settings_dictionary',
    'Invalid value type at `.dictionary`: expected an array, but found a positive integer: `42`',
  ],
  [
    'synonyms',
    42,
    'invalid_settings_synonyms',
    'Invalid value type at `.synonyms`: expected an object, but found a positive integer: `42`',
  ],
  [
    'distinctAttribute',
    42,
    'invalid_settings_distinct_attribute',
    'Invalid value type at `.distinctAttribute`: expected a string, but found a positive integer: `42`',
  ],
  [
    'proximityPrecision',
    42,
    'invalid_settings_proximity_precision',
    'Unknown value `42` at `.proximityPrecision`: expected one of `byWord`, `byAttribute`',
  ],
  [
    'typoTolerance',
    42,
    'invalid_settings_typo_tolerance',
    'Invalid value type at `.typoTolerance`: expected an object, but found a positive integer: `42`',
  ],
  [
    'faceting',
    42,
    'invalid_settings_faceting',
    'Invalid value type at `.faceting`: expected an object, but found a positive integer: `42`',
  ],
  [
    'pagination',
    42,
    'invalid_settings_pagination',
    'Invalid value type at `.pagination`: expected an object, but found a positive integer: `42`',
  ],
  [
    'embedders',
    42,
    'invalid_settings_embedders',
    'Invalid value type at `.embedders`: expected an object, but found a number: `42`',
  ],
  [
    'searchCutoffMs',
    'x',
    'invalid_settings_search_cutoff_ms',
    'Invalid value type at `.searchCutoffMs`: expected a positive integer, but found a string: `"x"`',
  ],
  [
    'localizedAttributes',
    42,
    'invalid_settings_localized_attributes',
    'Invalid value type at `.localizedAttributes`: expected an array, but found a positive integer: `42`',
  ],
  [
    'facetSearch',
    42,
    'invalid_settings_facet_search',
    'Invalid value type at `.facetSearch`: expected a boolean, but found a positive integer: `42`',
  ],
  [
    'prefixSearch',
    42,
    'invalid_settings_prefix_search',
    'Unknown value `42` at `.prefixSearch`: expected one of `indexingTime`, `disabled`',
  ],
  [
    'foreignKeys',
    42,
    'invalid_settings_foreign_keys',
    'Invalid value type at `.foreignKeys`: expected an array, but found a positive integer: `42`',
  ],
  [
    'chat',
    42,
    'invalid_settings_index_chat',
    'Invalid value type at `.chat`: expected an object, but found a positive integer: `42`',
  ],
];

test('settings: every setting refuses a wrong type with its own code', () => {
  for (const [key, value, code, message] of SETTINGS_WRONG_TYPE)
    assert.deepEqual(
      refused(() => validateSettings({ [key]: value }, null, defaultSettings(), ALL_FEATURES)),
      { code, message },
      key,
    );
});

test("settings: nested rules keep their setting's code", () => {
  const cases: Array<[unknown, string, string]> = [
    [
      { rankingRules: ['nope'] },
      'invalid_settings_ranking_rules',
      'Invalid value at `.rankingRules[0]`: `nope` ranking rule is invalid. Valid ranking rules are words, typo, sort, proximity, attribute, exactness and custom ranking rules.',
    ],
    [
      { rankingRules: ['attribute', 'wordPosition'] },
      'invalid_settings_ranking_rules',
      'Mixed usage of the attribute, attributeRank, and wordPosition ranking rules. You must either use the attribute ranking rule alone or the attributeRank and wordPosition ranking rules.',
    ],
    [
      { typoTolerance: { minWordSizeForTypos: { oneTypo: 9, twoTypos: 5 } } },
      'invalid_settings_typo_tolerance',
      '`minWordSizeForTypos` setting is invalid. `oneTypo` and `twoTypos` fields should be between `0` and `255`, and `twoTypos` should be greater or equals to `oneTypo` but found `oneTypo: 9` and twoTypos: `5`.',
    ],
    [
      { typoTolerance: { bogus: 1 } },
      'invalid_settings_typo_tolerance',
      'Unknown field `bogus` inside `.typoTolerance`: expected one of `enabled`, `minWordSizeForTypos`, `disableOnWords`, `disableOnAttributes`, `disableOnNumbers`',
    ],
    [
      { pagination: { maxTotalHits: 0 } },
      'invalid_settings_pagination',
      'Invalid value at `.pagination.maxTotalHits`: a non-zero integer value lower than `18446744073709551615` was expected, but found a zero',
    ],
    [
      { faceting: { sortFacetValuesBy: { a: 'size' } } },
      'invalid_settings_faceting',
      'Unknown value `size` at `.faceting.sortFacetValuesBy.a`: expected one of `alpha`, `count`',
    ],
    [[], 'bad_request', 'Invalid value type: expected an object, but found an array: `[]`'],
  ];
  for (const [body, code, message] of cases)
    assert.deepEqual(
      refused(() => validateSettings(body, null)),
      { code, message },
    );
  assert.match(
    refused(() => validateSettings({ bogus: 1 }, null)).message,
    /^Unknown field `bogus`: expected one of `displayedAttributes`, /,
  );
});

test("settings: one route's value, and the experimental settings behind their features", () => {
  assert.deepEqual(validateSettings(['x'], 'stop-words'), { stopWords: ['x'] });
  assert.deepEqual(
    refused(() => validateSettings(5, 'stop-words')),
    {
      code: 'invalid_settings_stop_words',
      message: 'Invalid value type: expected an array, but found a positive integer: `5`',
    },
  );
  assert.deepEqual(
    refused(() => validateSettings({ foreignKeys: [] }, null)),
    {
      code: 'feature_not_enabled',
      message:
        'setting `foreignKeys` in the index settings requires enabling the `foreign_keys` experimental feature. See https://github.com/orgs/meilisearch/discussions/873',
    },
  );
  assert.deepEqual(validateSettings({ foreignKeys: [] }, null, defaultSettings(), ALL_FEATURES), { foreignKeys: [] });
  assert.deepEqual(validateSettings({ foreignKeys: null }, null), { foreignKeys: null });
});

/** [parameter, code, message] for `{ [parameter]: { a: 1 } }` in a search body. */
const SEARCH_WRONG_TYPE: Array<[string, string, string]> = [
  ['q', 'invalid_search_q', 'Invalid value type at `.q`: expected a string, but found an object: `{"a":1}`'],
  [
    'offset',
    'invalid_search_offset',
    'Invalid value type at `.offset`: expected a positive integer, but found an object: `{"a":1}`',
  ],
  [
    'limit',
    'invalid_search_limit',
    'Invalid value type at `.limit`: expected a positive integer, but found an object: `{"a":1}`',
  ],
  [
    'page',
    'invalid_search_page',
    'Invalid value type at `.page`: expected a positive integer, but found an object: `{"a":1}`',
  ],
  [
    'hitsPerPage',
    'invalid_search_hits_per_page',
    'Invalid value type at `.hitsPerPage`: expected a positive integer, but found an object: `{"a":1}`',
  ],
  [
    'attributesToRetrieve',
    'invalid_search_attributes_to_retrieve',
    'Invalid value type at `.attributesToRetrieve`: expected an array, but found an object: `{"a":1}`',
  ],
  [
    'retrieveVectors',
    'invalid_search_retrieve_vectors',
    'Invalid value type at `.retrieveVectors`: expected a boolean, but found an object: `{"a":1}`',
  ],
  [
    'attributesToCrop',
    'invalid_search_attributes_to_crop',
    'Invalid value type at `.attributesToCrop`: expected an array, but found an object: `{"a":1}`',
  ],
  [
    'cropLength',
    'invalid_search_crop_length',
    'Invalid value type at `.cropLength`: expected a positive integer, but found an object: `{"a":1}`',
  ],
  [
    'cropMarker',
    'invalid_search_crop_marker',
    'Invalid value type at `.cropMarker`: expected a string, but found an object: `{"a":1}`',
  ],
  [
    'attributesToHighlight',
    'invalid_search_attributes_to_highlight',
    'Invalid value type at `.attributesToHighlight`: expected an array, but found an object: `{"a":1}`',
  ],
  [
    'highlightPreTag',
    'invalid_search_highlight_pre_tag',
    'Invalid value type at `.highlightPreTag`: expected a string, but found an object: `{"a":1}`',
  ],
  [
    'highlightPostTag',
    'invalid_search_highlight_post_tag',
    'Invalid value type at `.highlightPostTag`: expected a string, but found an object: `{"a":1}`',
  ],
  [
    'showMatchesPosition',
    'invalid_search_show_matches_position',
    'Invalid value type at `.showMatchesPosition`: expected a boolean, but found an object: `{"a":1}`',
  ],
  [
    'showRankingScore',
    'invalid_search_show_ranking_score',
    'Invalid value type at `.showRankingScore`: expected a boolean, but found an object: `{"a":1}`',
  ],
  [
    'showRankingScoreDetails',
    'invalid_search_show_ranking_score_details',
    'Invalid value type at `.showRankingScoreDetails`: expected a boolean, but found an object: `{"a":1}`',
  ],
  [
    'showPerformanceDetails',
    'invalid_search_show_performance_details',
    'Invalid value type at `.showPerformanceDetails`: expected a boolean, but found an object: `{"a":1}`',
  ],
  ['sort', 'invalid_search_sort', 'Invalid value type at `.sort`: expected an array, but found an object: `{"a":1}`'],
  [
    'distinct',
    'invalid_search_distinct',
    'Invalid value type at `.distinct`: expected a string, but found an object: `{"a":1}`',
  ],
  [
    'facets',
    'invalid_search_facets',
    'Invalid value type at `.facets`: expected an array, but found an object: `{"a":1}`',
  ],
  [
    'matchingStrategy',
    'invalid_search_matching_strategy',
    'Invalid value type at `.matchingStrategy`: expected a string, but found an object: `{"a":1}`',
  ],
  [
    'attributesToSearchOn',
    'invalid_search_attributes_to_search_on',
    'Invalid value type at `.attributesToSearchOn`: expected an array, but found an object: `{"a":1}`',
  ],
  [
    'rankingScoreThreshold',
    'invalid_search_ranking_score_threshold',
    'Invalid value type at `.rankingScoreThreshold`: expected a number, but found an object: `{"a":1}`',
  ],
  [
    'locales',
    'invalid_search_locales',
    'Invalid value type at `.locales`: expected an array, but found an object: `{"a":1}`',
  ],
];

test('search: every body parameter refuses a wrong type with its own code', () => {
  for (const [field, code, message] of SEARCH_WRONG_TYPE)
    assert.deepEqual(
      refused(() => parseSearchQuery({ [field]: { a: 1 } }, 'json')),
      { code, message },
      field,
    );
});

test('search: value rules, list items and the query-string forms', () => {
  const cases: Array<[() => unknown, string, string]> = [
    [
      () => parseSearchQuery({ rankingScoreThreshold: 1.5 }, 'json'),
      'invalid_search_ranking_score_threshold',
      'Invalid value at `.rankingScoreThreshold`: the value of `rankingScoreThreshold` is invalid, expected a float between `0.0` and `1.0`.',
    ],
    [
      () => parseSearchQuery({ matchingStrategy: 'most' }, 'json'),
      'invalid_search_matching_strategy',
      'Unknown value `most` at `.matchingStrategy`: expected one of `last`, `all`, `frequency`',
    ],
    [
      () => parseSearchQuery({ attributesToRetrieve: [1] }, 'json'),
      'invalid_search_attributes_to_retrieve',
      'Invalid value type at `.attributesToRetrieve[0]`: expected a string, but found a positive integer: `1`',
    ],
    [
      () => parseSearchQuery({ limit: 'x' }, 'query'),
      'invalid_search_limit',
      'Invalid value in parameter `limit`: could not parse `x` as a positive integer',
    ],
    [
      () => parseSearchQuery({ showRankingScore: 'yes' }, 'query'),
      'invalid_search_show_ranking_score',
      'Invalid value in parameter `showRankingScore`: could not parse `yes` as a boolean, expected either `true` or `false`',
    ],
    [
      () => parseSearchQuery({ rankingScoreThreshold: '2' }, 'query'),
      'invalid_search_ranking_score_threshold',
      'Invalid value in parameter `rankingScoreThreshold`: the value of `rankingScoreThreshold` is invalid, expected a float between `0.0` and `1.0`.',
    ],
    [
      () => parseSearchQuery({ rankingScoreThreshold: 'abc' }, 'query'),
      'invalid_search_ranking_score_threshold',
      'Invalid value in parameter `rankingScoreThreshold`: could not parse `abc` as a float',
    ],
    [
      () => parseSearchQuery({ matchingStrategy: 'most' }, 'query'),
      'invalid_search_matching_strategy',
      'Unknown value `most` for parameter `matchingStrategy`: expected one of `last`, `all`, `frequency`',
    ],
    [
      () => parseMultiSearch({ queries: [{ q: 'x' }] }),
      'missing_index_uid',
      'Missing field `indexUid` inside `.queries[0]`',
    ],
    [
      () => parseMultiSearch({ queries: 1 }),
      'bad_request',
      'Invalid value type at `.queries`: expected an array, but found a positive integer: `1`',
    ],
  ];
  for (const [run, code, message] of cases) assert.deepEqual(refused(run), { code, message });
  assert.match(
    refused(() => parseSearchQuery({ nope: 1 }, 'json')).message,
    /^Unknown field `nope`: expected one of `q`, `offset`, /,
  );
});

/** [parameter, code, message] for documents fetch and facet search bodies. */
const DOCUMENTS_WRONG_TYPE: Array<[string, string, string]> = [
  [
    'offset',
    'invalid_document_offset',
    'Invalid value type at `.offset`: expected a positive integer, but found an object: `{"a":1}`',
  ],
  [
    'limit',
    'invalid_document_limit',
    'Invalid value type at `.limit`: expected a positive integer, but found an object: `{"a":1}`',
  ],
  [
    'fields',
    'invalid_document_fields',
    'Invalid value type at `.fields`: expected an array, but found an object: `{"a":1}`',
  ],
  ['sort', 'invalid_document_sort', 'Invalid value type at `.sort`: expected an array, but found an object: `{"a":1}`'],
  [
    'retrieveVectors',
    'invalid_document_retrieve_vectors',
    'Invalid value type at `.retrieveVectors`: expected a boolean, but found an object: `{"a":1}`',
  ],
];
const FACET_SEARCH_WRONG_TYPE: Array<[string, string, string]> = [
  [
    'facetName',
    'invalid_facet_search_facet_name',
    'Invalid value type at `.facetName`: expected a string, but found an object: `{"a":1}`',
  ],
  [
    'facetQuery',
    'invalid_facet_search_query',
    'Invalid value type at `.facetQuery`: expected a string, but found an object: `{"a":1}`',
  ],
  [
    'exhaustiveFacetCount',
    'invalid_facet_search_exhaustive_facet_count',
    'Invalid value type at `.exhaustiveFacetCount`: expected a boolean, but found an object: `{"a":1}`',
  ],
];

test('documents fetch and facet search: every parameter refuses a wrong type with its own code', () => {
  for (const [field, code, message] of DOCUMENTS_WRONG_TYPE)
    assert.deepEqual(
      refused(() => parseDocumentsQuery({ [field]: { a: 1 } }, 'json')),
      { code, message },
      field,
    );
  for (const [field, code, message] of FACET_SEARCH_WRONG_TYPE)
    assert.deepEqual(
      refused(() => parseFacetSearchQuery({ facetName: 'x', [field]: { a: 1 } })),
      { code, message },
      field,
    );
  assert.deepEqual(
    refused(() => parseFacetSearchQuery({})),
    {
      code: 'missing_facet_search_facet_name',
      message: 'Missing field `facetName`',
    },
  );
});
