// Peer discovery against a real (loopback) DNS server: SRV records become peers (targets resolved to their
// addresses, so this pod's POD_IP-based self URL is not counted twice), record changes show up on the next
// refresh and fire onChange, A records on this pod's port are the fallback when there are no SRV records, a
// failing lookup keeps the last list, and static mode normalizes the configured list and includes self.
import assert from 'node:assert/strict';
import { Resolver } from 'node:dns/promises';
import { after, before, test } from 'node:test';
import {
  PeerDiscovery,
  normalizePeerUrl,
  podIdentity,
  type PeerDiscoveryOptions,
} from '../../../src/main/cluster/peers.js';
import { startDnsServer, type DnsTestServer } from '../../support/dns-server.js';

const SVC = 'miroir-headless.test.svc';
let dns: DnsTestServer;
const stops: Array<() => Promise<void>> = [];

before(async () => {
  dns = await startDnsServer();
});
after(async () => {
  for (const stop of stops.reverse()) await stop();
  await dns.close();
});

function resolver(): Resolver {
  const r = new Resolver({ timeout: 1000, tries: 2 });
  r.setServers([`127.0.0.1:${dns.port}`]);
  return r;
}

async function waitFor(what: string, cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function capture() {
  const warnings: string[] = [];
  const changes: string[][] = [];
  const gauge = {
    value: -1,
    set(n: number) {
      this.value = n;
    },
  };
  const logger = { info: () => undefined, warn: (_obj: object, msg: string) => void warnings.push(msg) };
  return { warnings, changes, gauge, logger, onChange: (p: string[]) => void changes.push(p) };
}

function discovery(opts: Partial<PeerDiscoveryOptions>, c = capture()) {
  const d = new PeerDiscovery({
    mode: 'dns',
    peers: [],
    serviceName: SVC,
    refreshIntervalMs: 100,
    self: 'http://10.0.0.10:7700',
    port: 7700,
    resolver: resolver(),
    onChange: c.onChange,
    logger: c.logger,
    gauge: c.gauge,
    ...opts,
  });
  stops.push(() => d.stop());
  return { d, ...c };
}

const pods = (n: number) => ({
  a: Object.fromEntries(Array.from({ length: n }, (_, i) => [`miroir-${i}.${SVC}`, [`10.0.0.${10 + i}`]])),
  srv: {
    [SVC]: Array.from({ length: n }, (_, i) => ({ target: `miroir-${i}.${SVC}`, port: 7700, priority: 0, weight: 10 })),
  },
});

test('dns mode: SRV records become peers, and a 3 → 2 pod change is picked up and reported', async () => {
  dns.setRecords(pods(3));
  const { d, changes, gauge } = discovery({});
  await d.start();
  const three = ['http://10.0.0.10:7700', 'http://10.0.0.11:7700', 'http://10.0.0.12:7700'];
  assert.deepEqual(d.peers(), three, 'resolved SRV targets; self (pod 0) counted once');
  assert.equal(d.selfId, 'http://10.0.0.10:7700');
  assert.deepEqual(changes, [three]);
  assert.equal(gauge.value, 3);

  dns.setRecords(pods(2));
  await waitFor('the peer list to drop to two pods', () => d.peers().length === 2);
  assert.deepEqual(d.peers(), three.slice(0, 2));
  await waitFor('onChange to report two pods', () => changes.length === 2);
  assert.deepEqual(changes[1], three.slice(0, 2));
  assert.equal(gauge.value, 2);

  // Self is kept even when DNS no longer lists this pod (e.g. while it is not ready).
  const withoutSelf = pods(3);
  withoutSelf.srv[SVC] = withoutSelf.srv[SVC]!.slice(1);
  dns.setRecords(withoutSelf);
  await waitFor('the list with pods 1 and 2 in DNS', () => changes.length === 3);
  assert.deepEqual(d.peers(), three);
});

test('dns mode: SRV targets without an A record are used by name, with the SRV port', async () => {
  dns.setRecords({
    srv: {
      [SVC]: [
        { target: 'pod-x.example', port: 7801 },
        { target: '10.1.1.1', port: 7802 },
      ],
    },
  });
  const { d } = discovery({ self: 'http://10.0.0.10:7700/' });
  await d.start();
  assert.deepEqual(d.peers(), ['http://10.0.0.10:7700', 'http://10.1.1.1:7802', 'http://pod-x.example:7801']);
});

test("dns mode: A records on this pod's port when the name has no SRV records", async () => {
  dns.setRecords({ a: { [SVC]: ['10.0.0.21', '10.0.0.20'] } });
  const { d, changes } = discovery({ self: 'http://10.0.0.20:7700', port: 7700 });
  await d.start();
  assert.deepEqual(d.peers(), ['http://10.0.0.20:7700', 'http://10.0.0.21:7700']);
  dns.setRecords({ a: { [SVC]: ['10.0.0.20', '10.0.0.21', '10.0.0.22'] } });
  await waitFor('the third A record', () => d.peers().length === 3);
  assert.deepEqual(changes.at(-1), ['http://10.0.0.20:7700', 'http://10.0.0.21:7700', 'http://10.0.0.22:7700']);
});

test('dns mode: a failing lookup, and a lookup finding nothing, keep the last list', async () => {
  dns.setRecords(pods(3));
  const { d, warnings, changes } = discovery({});
  await d.start();
  const good = d.peers();
  assert.equal(good.length, 3);

  dns.setFailing(true);
  await waitFor('a failed lookup to be logged', () => warnings.some((w) => w.includes('lookup failed')));
  const failuresSeen = warnings.length;
  await waitFor('another failed refresh', () => warnings.length > failuresSeen);
  assert.deepEqual(d.peers(), good);
  assert.equal(changes.length, 1);

  dns.setFailing(false);
  dns.setRecords({ a: { other: ['10.9.9.9'] } });
  await waitFor('an empty lookup to be logged', () => warnings.some((w) => w.includes('found no SRV or A records')));
  assert.deepEqual(d.peers(), good);

  dns.setRecords(pods(2));
  await waitFor('recovery to the new list', () => d.peers().length === 2);
  assert.equal(changes.length, 2);
});

test('dns mode: a resolver that is unreachable keeps the self-only list and start() still resolves', async () => {
  const r = new Resolver({ timeout: 200, tries: 1 });
  r.setServers(['127.0.0.1:1']);
  const { d, warnings } = discovery({ resolver: r });
  await d.start();
  assert.deepEqual(d.peers(), ['http://10.0.0.10:7700']);
  assert.ok(warnings.some((w) => w.includes('lookup failed')));
});

test('static mode: normalized, sorted, deduplicated, self included, no lookups', async () => {
  const queriesBefore = dns.queries();
  const { d, changes, gauge } = discovery({
    mode: 'static',
    peers: [
      'http://B.example:7700/',
      'http://a.example:7700',
      'http://a.example:7700//',
      'https://c.example:443/base/',
    ],
    self: 'http://me.example:80',
  });
  await d.start();
  assert.deepEqual(d.peers(), [
    'http://a.example:7700',
    'http://b.example:7700',
    'http://me.example',
    'https://c.example/base',
  ]);
  assert.equal(d.selfId, 'http://me.example');
  assert.equal(gauge.value, 4);
  assert.deepEqual(changes, []);
  assert.equal(dns.queries(), queriesBefore);

  const withSelf = discovery({ mode: 'static', peers: ['http://a:1', 'http://b:2'], self: 'http://b:2/' }).d;
  assert.deepEqual(withSelf.peers(), ['http://a:1', 'http://b:2']);
});

test('podIdentity and normalizePeerUrl', () => {
  assert.deepEqual(podIdentity({ env: { POD_NAME: 'miroir-0', POD_IP: '10.0.0.7' }, hostname: 'h', port: 7700 }), {
    id: 'miroir-0',
    url: 'http://10.0.0.7:7700',
  });
  assert.deepEqual(podIdentity({ env: {}, hostname: 'box', port: 7701, selfUrl: null }), {
    id: 'box:7701',
    url: 'http://box:7701',
  });
  assert.deepEqual(
    podIdentity({ env: { POD_IP: '10.0.0.7' }, hostname: 'box', port: 7701, selfUrl: 'http://Pod.Example:7701/' }),
    {
      id: 'box:7701',
      url: 'http://pod.example:7701',
    },
  );
  assert.equal(podIdentity({ env: { POD_IP: 'fd00::1' }, hostname: 'h', port: 1 }).url, 'http://[fd00::1]:1');
  assert.equal(normalizePeerUrl('10.0.0.1:7700'), 'http://10.0.0.1:7700');
});
