// Minimal types for the parts of dns2 (no bundled types) the loopback DNS test server uses.
declare module 'dns2' {
  import type { AddressInfo } from 'node:net';

  interface DnsQuestion {
    name: string;
    type: number;
    class: number;
  }

  interface DnsPacket {
    header: { id: number; qr: number; rcode: number; aa: number; [k: string]: unknown };
    questions: DnsQuestion[];
    answers: Array<Record<string, unknown>>;
    authorities: Array<Record<string, unknown>>;
    additionals: Array<Record<string, unknown>>;
  }

  interface DnsServer {
    listen(options: {
      udp?: { port: number; address: string; type?: 'udp4' | 'udp6' };
    }): Promise<{ udp?: AddressInfo }>;
    addresses(): { udp?: AddressInfo };
    close(): Promise<void>;
    on(event: 'error' | 'requestError', listener: (err: Error) => void): this;
  }

  interface Dns2Static {
    createServer(options: {
      udp?: boolean | { type: 'udp4' | 'udp6' };
      handle: (request: DnsPacket, send: (response: DnsPacket) => Promise<unknown>, rinfo: AddressInfo) => void;
    }): DnsServer;
    Packet: {
      TYPE: Record<'A' | 'AAAA' | 'SRV' | 'ANY', number>;
      CLASS: Record<'IN', number>;
      createResponseFromRequest(request: DnsPacket): DnsPacket;
    };
  }

  const dns2: Dns2Static;
  export default dns2;
  export type { DnsPacket, DnsQuestion, DnsServer };
}
