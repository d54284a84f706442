// Search-UI test fixtures: a small movie index (typo-able titles, a genre facet, a sortable year, a tenant field) and a
// cluster started with `search_ui` on and a session secret in the environment.
import { randomBytes } from 'node:crypto';
import { Meilisearch } from 'meilisearch';
import { startCluster, type TestCluster } from './cluster.js';

export const MOVIES = [
  ['Interstellar', 'Science Fiction', 2014, 'acme'],
  ['Inception', 'Science Fiction', 2010, 'acme'],
  ['The Dark Knight', 'Action', 2008, 'acme'],
  ['Memento', 'Thriller', 2000, 'acme'],
  ['Dunkirk', 'War', 2017, 'acme'],
  ['The Prestige', 'Drama', 2006, 'acme'],
  ['Tenet', 'Science Fiction', 2020, 'acme'],
  ['Oppenheimer', 'Drama', 2023, 'acme'],
  ['Insomnia', 'Thriller', 2002, 'acme'],
  ['Following', 'Thriller', 1998, 'acme'],
  ['Arrival', 'Science Fiction', 2016, 'acme'],
  ['Sicario', 'Thriller', 2015, 'acme'],
  ['Prisoners', 'Drama', 2013, 'acme'],
  ['Dune', 'Science Fiction', 2021, 'globex'],
  ['Blade Runner 2049', 'Science Fiction', 2017, 'globex'],
  ['Enemy', 'Drama', 2013, 'globex'],
  ['Incendies', 'Drama', 2010, 'globex'],
  ['Amadeus', 'Drama', 1984, 'globex'],
  ['Casablanca', 'Drama', 1942, 'globex'],
  ['Vertigo', 'Thriller', 1958, 'globex'],
  ['Alien', 'Science Fiction', 1979, 'globex'],
  ['Heat', 'Action', 1995, 'globex'],
  ['Gladiator', 'Action', 2000, 'globex'],
  ['Parasite', 'Drama', 2019, 'globex'],
].map(([title, genre, year, tenant], i) => ({
  id: i + 1,
  title: title as string,
  genre: genre as string,
  year: year as number,
  tenant: tenant as string,
  overview: `${title as string} (${year as number}), a ${(genre as string).toLowerCase()} film.`,
}));

export interface UiCluster {
  cluster: TestCluster;
  url: string;
  secret: string;
  client: Meilisearch;
  close(): Promise<void>;
}

/** A one-group cluster with the search UI on (extra `search_ui` keys merged in) and the movie index loaded. */
export async function startUiCluster(
  searchUi: Record<string, unknown> = {},
  opts: { nodes?: number; secret?: string } = {},
): Promise<UiCluster> {
  const secret = opts.secret ?? randomBytes(48).toString('base64');
  process.env.SEARCH_UI_JWT_SECRET = secret;
  const cluster = await startCluster({
    nodes: opts.nodes ?? 2,
    shards: 8,
    config: { search_ui: { enabled: true, ...searchUi } },
  });
  const client = new Meilisearch({ host: cluster.app.url, apiKey: cluster.masterKey });
  await client.createIndex('movies', { primaryKey: 'id' }).waitTask();
  await client
    .index('movies')
    .updateSettings({ filterableAttributes: ['genre', 'tenant'], sortableAttributes: ['year'] })
    .waitTask();
  await client.index('movies').addDocuments(MOVIES).waitTask();
  return { cluster, url: cluster.app.url, secret, client, close: () => cluster.close() };
}
