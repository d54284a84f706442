// Meilisearch's filter language: parse (string and array forms), evaluate, check filterable attributes, print.
export { parseFilter, parseFilterString, type FilterNode, type FilterValue, type ParseOptions } from './parse.js';
export {
  compileFilter,
  filterAttributes,
  filterToString,
  serializeFilter,
  FilterableAttributes,
  attributePatternMatches,
  normalizeFacet,
  valuesAt,
  type Predicate,
  type CompileOptions,
} from './evaluate.js';
