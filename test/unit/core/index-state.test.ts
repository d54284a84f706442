// The index-state model: pending changes fold over the committed state in task order, settle commits or drops them
// (sticky side changes stand when their task failed), and settings tasks send only their keys, physical.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  emptyRecord,
  physicalPatch,
  physicalSettings,
  project,
  settleChanges,
  type IndexRecordDraft,
} from '../../../src/core/index-state.js';
import { hideReservedFields, scrubReservedMembers } from '../../../src/core/reserved.js';
import { applySettingsPatch, defaultSettings } from '../../../src/core/settings.js';

test('projection folds pending changes over the committed state in task order', () => {
  const r: IndexRecordDraft = emptyRecord('movies', 16);
  assert.equal(project(r).exists, false);
  r.pending.push(
    { taskUid: 1, kind: 'create', primaryKey: null },
    { taskUid: 2, kind: 'settings', patch: { filterableAttributes: ['genre'] } },
    { taskUid: 3, kind: 'primaryKey', primaryKey: 'id' },
  );
  const p = project(r);
  assert.deepEqual([p.exists, p.primaryKey, p.settings.filterableAttributes], [true, 'id', ['genre']]);
  r.pending.push(
    { taskUid: 4, kind: 'delete' },
    { taskUid: 5, kind: 'settings', patch: { sortableAttributes: ['year'] } },
  );
  const after = project(r);
  assert.equal(after.exists, true, 'a settings update of a missing index creates it, like Meilisearch');
  assert.deepEqual(after.settings.filterableAttributes, [], 'the deletion dropped the earlier settings');
  assert.deepEqual(after.settings.sortableAttributes, ['year']);
});

test("settling commits a succeeded task's changes in order, drops a failed one, keeps sticky side changes of a failed write", () => {
  let r: IndexRecordDraft | null = emptyRecord('m', 8);
  r.pending.push(
    { taskUid: 1, kind: 'create', primaryKey: null },
    { taskUid: 2, kind: 'settings', patch: { stopWords: ['the'] } },
  );
  r = settleChanges(r, 1, true, 'T1')!;
  assert.deepEqual(r.committed, {
    primaryKey: null,
    settings: defaultSettings(),
    settingsVersion: 1,
    createdAt: 'T1',
    updatedAt: 'T1',
  });
  r = settleChanges(r, 2, false, 'T2')!;
  assert.deepEqual(r.committed!.settings.stopWords, [], 'a failed settings task leaves the settings as they were');
  assert.equal(r.committed!.settingsVersion, 1);
  r.pending.push(
    { taskUid: 3, kind: 'primaryKey', primaryKey: 'id', sticky: true },
    { taskUid: 4, kind: 'settings', patch: { stopWords: ['a'] } },
  );
  r = settleChanges(r, 3, false, 'T3', true)!;
  assert.equal(r.committed!.primaryKey, 'id', 'the primary key a failed write already set on every node stands');
  r = settleChanges(r, 4, true, 'T4')!;
  assert.deepEqual([r.committed!.settings.stopWords, r.committed!.settingsVersion], [['a'], 2]);
  r.pending.push({ taskUid: 5, kind: 'delete' });
  assert.equal(settleChanges(r, 5, true, 'T5'), null, 'a deleted index with nothing pending leaves no record');
});

test('physical settings add the shard field, the facet over-fetch and the learned searchable list; a patch sends only its keys', () => {
  const logical = applySettingsPatch(defaultSettings(), { filterableAttributes: ['genre'] });
  const whole = physicalSettings(logical, ['id', 'title', '_miroir_shard', '_miroir_note'], 10);
  assert.deepEqual(whole.filterableAttributes, ['genre', '_miroir_shard']);
  assert.deepEqual(whole.faceting, { maxValuesPerFacet: 1000, sortFacetValuesBy: { '*': 'alpha' } });
  assert.deepEqual(whole.searchableAttributes, ['id', 'title', '_miroir_note'], 'only reserved fields are left out');
  const reset = physicalPatch({ filterableAttributes: null, faceting: null }, defaultSettings(), [], 10);
  assert.deepEqual(reset, {
    filterableAttributes: ['_miroir_shard'],
    faceting: { maxValuesPerFacet: 1000, sortFacetValuesBy: { '*': 'alpha' } },
  });
  assert.deepEqual(Object.keys(physicalPatch({ stopWords: ['x'] }, defaultSettings(), ['a'], 10)), ['stopWords']);
});

test('node error messages never name the reserved fields', () => {
  assert.equal(
    hideReservedFields(
      'Attribute `genre` is not filterable. Available filterable attribute patterns are: `_miroir_shard`.\n1:6 genre = x',
    ),
    'Attribute `genre` is not filterable. This index does not have configured filterable attributes.\n1:6 genre = x',
  );
  assert.equal(
    hideReservedFields('Available facets are: `Zed`, `_miroir_shard`, `color`.'),
    'Available facets are: `Zed`, `color`.',
  );
  assert.equal(
    hideReservedFields('Available filterable attributes patterns are: `_miroir_shard, genres, title`.'),
    'Available filterable attributes patterns are: `genres, title`.',
  );
  assert.equal(
    hideReservedFields('Available facet-searchable attributes patterns are: `_miroir_shard`. To make it'),
    'This index does not have configured filterable attributes. To make it',
  );
  assert.equal(hideReservedFields('nothing to hide'), 'nothing to hide');
});

test('reserved members are cut out of a raw JSON answer without touching strings that mention them', () => {
  const raw = JSON.stringify({
    hits: [
      { _miroir_shard: 3, id: 1, note: 'a "_miroir_shard":4, in text', _formatted: { id: '1', _miroir_shard: '3' } },
      { id: 2, _miroir_shard: 12 },
      { _miroir_shard: 0 },
      { id: 3, _miroir_shard: 5, title: 'x', _miroir_note: 'kept' },
    ],
  });
  assert.deepEqual(JSON.parse(scrubReservedMembers(raw)), {
    hits: [
      { id: 1, note: 'a "_miroir_shard":4, in text', _formatted: { id: '1' } },
      { id: 2 },
      {},
      { id: 3, title: 'x', _miroir_note: 'kept' },
    ],
  });
});
