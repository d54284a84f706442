// The declarative settings validator's outputs (core/settings.ts): sorted sets, PATCH-style merges with the current
// value, reset-to-default on null, item defaults, and the nested rules' paths. Expected values are those of the
// hand-written validator it replaced (key order included: the strings are compared, not only the values).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MeiliError } from '../../../src/core/errors.js';
import { EXPERIMENTAL_SETTINGS, defaultSettings, validateSettings } from '../../../src/core/settings.js';
import { membersOf } from '../../../src/core/types.js';

const FEATURES = { foreignKeys: true, chatCompletions: true };
const base = defaultSettings();
const CURRENT = {
  ...base,
  typoTolerance: {
    ...membersOf(base.typoTolerance),
    enabled: false,
    minWordSizeForTypos: { oneTypo: 2, twoTypos: 4 },
  },
  chat: { ...membersOf(EXPERIMENTAL_SETTINGS.chat?.defaultValue()), searchParameters: { limit: 5 } },
};

function validated(body: unknown, route: string | null): string {
  return JSON.stringify(validateSettings(body, route, CURRENT, FEATURES));
}

function refused(body: unknown, route: string | null): string {
  try {
    validateSettings(body, route, CURRENT, FEATURES);
  } catch (err) {
    assert.ok(err instanceof MeiliError);
    return `${err.code} | ${err.message}`;
  }
  assert.fail('expected the value to be refused');
}

test('settings spec: string sets, merges with the current value, resets on null', () => {
  assert.equal(
    validated({ stopWords: ['b', 'a', 'b'], displayedAttributes: ['b', 'a', 'b'] }, null),
    '{"stopWords":["a","b"],"displayedAttributes":["b","a"]}',
  );
  assert.equal(
    validated({ typoTolerance: { minWordSizeForTypos: { twoTypos: 7 }, disableOnWords: null } }, null),
    '{"typoTolerance":{"enabled":false,"minWordSizeForTypos":{"oneTypo":2,"twoTypos":7},"disableOnWords":[],"disableOnAttributes":[],"disableOnNumbers":false}}',
  );
  assert.equal(
    validated({ faceting: { sortFacetValuesBy: { a: 'count' } }, pagination: { maxTotalHits: null } }, null),
    '{"faceting":{"maxValuesPerFacet":100,"sortFacetValuesBy":{"*":"alpha","a":"count"}},"pagination":{"maxTotalHits":1000}}',
  );
  assert.equal(
    validated({ description: null, searchParameters: { hybrid: null } }, 'chat'),
    JSON.stringify({
      chat: {
        ...membersOf(EXPERIMENTAL_SETTINGS.chat?.defaultValue()),
        searchParameters: { limit: 5, hybrid: null },
      },
    }),
  );
});

test('settings spec: array items with their defaults', () => {
  assert.equal(
    validated(
      ['a', { attributePatterns: ['x', 'x'], features: { filter: { comparison: true } } }, {}],
      'filterable-attributes',
    ),
    '{"filterableAttributes":["a",{"attributePatterns":["x"],"features":{"facetSearch":false,"filter":{"equality":true,"comparison":true}}},{"attributePatterns":[],"features":{"facetSearch":false,"filter":{"equality":true,"comparison":false}}}]}',
  );
  assert.equal(
    validated([{ locales: ['fra'], extra: 1 }], 'localized-attributes'),
    '{"localizedAttributes":[{"attributePatterns":[],"locales":["fra"]}]}',
  );
});

test('settings spec: nested errors name their path and code', () => {
  assert.equal(
    refused([{ fieldName: 'f' }], 'foreign-keys'),
    'invalid_settings_foreign_keys | Missing field `foreignIndexUid` inside `[0]`',
  );
  assert.equal(
    refused([{ features: { filter: { exact: true } } }], 'filterable-attributes'),
    'invalid_settings_filterable_attributes | Unknown field `exact` inside `[0].features.filter`: expected one of `equality`, `comparison`',
  );
  assert.equal(
    refused({ minWordSizeForTypos: { oneTypo: 5 } }, 'typo-tolerance'),
    'invalid_settings_typo_tolerance | `minWordSizeForTypos` setting is invalid. `oneTypo` and `twoTypos` fields should be between `0` and `255`, and `twoTypos` should be greater or equals to `oneTypo` but found `oneTypo: 5` and twoTypos: `4`.',
  );
  assert.equal(
    refused({ documentTemplateMaxBytes: -1 }, 'chat'),
    'invalid_settings_index_chat | Invalid value type at `.documentTemplateMaxBytes`: expected a positive integer, but found a negative integer: `-1`',
  );
});
