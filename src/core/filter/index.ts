// Meilisearch's filter language: parse (string and array forms), evaluate, check filterable attributes, print.
export { parseFilter, parseFilterString, type FilterNode, type FilterValue } from './parse.js';
export { compileFilter, filterAttributes, filterToString, FilterableAttributes, attributePatternMatches, normalizeFacet, valuesAt, type Predicate, type CompileOptions } from './evaluate.js';
