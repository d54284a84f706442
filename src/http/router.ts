// HOT PATH. Matches method + path against the route table compiled once at boot: a segment trie where `:name`
// segments capture (URL-decoded) params. Answers the route and params, or the methods the path allows (→ 405).
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
/** A method a route may be declared for: OPTIONS serves the search UI's CORS preflights (issue 32). */
export type RouteMethod = HttpMethod | 'OPTIONS';

interface TrieNode<R> {
  literal: Map<string, TrieNode<R>>;
  param: { name: string; node: TrieNode<R> } | null;
  routes: Map<string, R> | null;
}

function newNode<R>(): TrieNode<R> {
  return { literal: new Map(), param: null, routes: null };
}

export type RouteMatch<R> =
  | { kind: 'found'; route: R; params: Record<string, string> }
  | { kind: 'method_not_allowed'; allowed: string[] }
  | { kind: 'not_found' };

const NOT_FOUND = Object.freeze({ kind: 'not_found' as const });

/** Splits `/a/b/` into ['a','b'] (Meilisearch tolerates a trailing slash). */
function segments(path: string): string[] {
  const out: string[] = [];
  let start = path.charCodeAt(0) === 47 ? 1 : 0;
  for (let i = start; i <= path.length; i++) {
    if (i === path.length || path.charCodeAt(i) === 47) {
      if (i > start) out.push(path.slice(start, i));
      start = i + 1;
    }
  }
  return out;
}

export class Router<R> {
  private readonly root: TrieNode<R> = newNode();

  add(method: RouteMethod, template: string, route: R): void {
    let node = this.root;
    for (const seg of segments(template)) {
      if (seg.startsWith(':')) {
        const name = seg.slice(1);
        if (node.param === null) node.param = { name, node: newNode() };
        else if (node.param.name !== name)
          throw new Error(`route ${template}: param :${name} clashes with :${node.param.name}`);
        node = node.param.node;
      } else {
        let next = node.literal.get(seg);
        if (next === undefined) node.literal.set(seg, (next = newNode()));
        node = next;
      }
    }
    node.routes ??= new Map();
    if (node.routes.has(method)) throw new Error(`route ${method} ${template} declared twice`);
    node.routes.set(method, route);
  }

  match(method: string, path: string): RouteMatch<R> {
    const segs = segments(path);
    const params: Record<string, string> = {};
    const want = method === 'HEAD' ? 'GET' : method;
    const node = this.walk(this.root, segs, 0, params, want);
    if (node !== null) return { kind: 'found', route: node.routes!.get(want)!, params };
    const any = this.walk(this.root, segs, 0, {}, null);
    if (any === null) return NOT_FOUND;
    return { kind: 'method_not_allowed', allowed: [...any.routes!.keys()] };
  }

  /** Depth-first: literals before params; `method` null accepts any node that has routes. */
  private walk(
    node: TrieNode<R>,
    segs: string[],
    i: number,
    params: Record<string, string>,
    method: string | null,
  ): TrieNode<R> | null {
    if (i === segs.length) {
      return node.routes !== null && (method === null || node.routes.has(method)) ? node : null;
    }
    const lit = node.literal.get(segs[i]!);
    if (lit !== undefined) {
      const found = this.walk(lit, segs, i + 1, params, method);
      if (found !== null) return found;
    }
    if (node.param !== null) {
      const found = this.walk(node.param.node, segs, i + 1, params, method);
      if (found !== null) {
        let value: string;
        try {
          value = decodeURIComponent(segs[i]!);
        } catch {
          value = segs[i]!;
        }
        params[node.param.name] = value;
        return found;
      }
    }
    return null;
  }
}
