// A loopback DNS server (dns2, UDP on 127.0.0.1, free port) answering A and SRV queries from a mutable in-memory
// table, for peer-discovery tests. Unknown names answer NXDOMAIN (→ ENOTFOUND), known names without records of
// the asked type answer NOERROR with no answers (→ ENODATA), `setFailing(true)` answers SERVFAIL to everything
// (→ ESERVFAIL). Records carry TTL 0 so resolvers never cache them. Tests close every server they start.
import dns2, { type DnsPacket } from 'dns2';

export interface SrvRecord {
  target: string;
  port: number;
  priority?: number;
  weight?: number;
}

export interface DnsRecords {
  a?: Record<string, string[]>;
  srv?: Record<string, SrvRecord[]>;
}

export interface DnsTestServer {
  port: number;
  /** Replaces the whole table. */
  setRecords(records: DnsRecords): void;
  /** While on, every query answers SERVFAIL. */
  setFailing(on: boolean): void;
  /** Queries answered so far. */
  queries(): number;
  close(): Promise<void>;
}

const RCODE_SERVFAIL = 2;
const RCODE_NXDOMAIN = 3;

const canonical = (name: string): string => name.toLowerCase().replace(/\.$/, '');

export async function startDnsServer(initial: DnsRecords = {}): Promise<DnsTestServer> {
  let a = new Map<string, string[]>();
  let srv = new Map<string, SrvRecord[]>();
  let failing = false;
  let answered = 0;
  const setRecords = (records: DnsRecords) => {
    a = new Map(Object.entries(records.a ?? {}).map(([k, v]) => [canonical(k), [...v]]));
    srv = new Map(Object.entries(records.srv ?? {}).map(([k, v]) => [canonical(k), v.map((r) => ({ ...r }))]));
  };
  setRecords(initial);
  const { Packet } = dns2;

  const handle = (request: DnsPacket, send: (response: DnsPacket) => Promise<unknown>) => {
    const response = Packet.createResponseFromRequest(request);
    response.header.aa = 1;
    const question = request.questions[0];
    answered++;
    if (failing) {
      response.header.rcode = RCODE_SERVFAIL;
    } else if (question !== undefined) {
      const name = canonical(question.name);
      if (!a.has(name) && !srv.has(name)) response.header.rcode = RCODE_NXDOMAIN;
      else if (question.type === Packet.TYPE.A) {
        for (const address of a.get(name) ?? []) {
          response.answers.push({ name: question.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 0, address });
        }
      } else if (question.type === Packet.TYPE.SRV) {
        for (const r of srv.get(name) ?? []) {
          response.answers.push({
            name: question.name,
            type: Packet.TYPE.SRV,
            class: Packet.CLASS.IN,
            ttl: 0,
            priority: r.priority ?? 0,
            weight: r.weight ?? 0,
            port: r.port,
            target: r.target,
          });
        }
      }
    }
    send(response).catch(() => undefined);
  };

  const server = dns2.createServer({ udp: { type: 'udp4' }, handle });
  server.on('error', () => undefined);
  server.on('requestError', () => undefined);
  const addresses = await server.listen({ udp: { port: 0, address: '127.0.0.1', type: 'udp4' } });
  const port = addresses.udp?.port;
  if (port === undefined) throw new Error('the DNS test server did not bind a UDP port');
  let closed: Promise<void> | null = null;
  return {
    port,
    setRecords,
    setFailing(on) {
      failing = on;
    },
    queries: () => answered,
    close() {
      closed ??= server.close();
      return closed;
    },
  };
}
