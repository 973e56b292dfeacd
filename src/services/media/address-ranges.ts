// Which IP addresses a Url input may reach: the IANA IPv4 and IPv6 special-purpose address
// registries as a table. An address is public only when no row covers it; IPv6 forms that carry
// an IPv4 address (mapped, compatible, NAT64) are judged by that address, and tunnel prefixes
// whose far end cannot be checked here (6to4, Teredo, local-use NAT64) are refused outright.
import net from 'node:net';

export type RangeKind =
  | 'unspecified' | 'this-network' | 'loopback' | 'private' | 'shared (CGNAT)' | 'link-local' | 'cloud metadata'
  | 'protocol assignments' | 'documentation' | 'benchmarking' | 'multicast' | 'reserved' | 'broadcast'
  | 'deprecated 6to4 relay' | 'discard-only' | 'unique-local' | 'site-local' | 'tunnel (6to4)' | 'tunnel (Teredo)'
  | 'local-use NAT64' | 'SRv6' | 'not global unicast';

type Row = [network: string, prefix: number, kind: RangeKind];

// Most specific first: the first matching row names the range.
const V4: Row[] = [
  ['169.254.169.254', 32, 'cloud metadata'],
  ['255.255.255.255', 32, 'broadcast'],
  ['0.0.0.0', 8, 'this-network'],
  ['10.0.0.0', 8, 'private'],
  ['100.64.0.0', 10, 'shared (CGNAT)'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link-local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'protocol assignments'],
  ['192.0.2.0', 24, 'documentation'],
  ['192.88.99.0', 24, 'deprecated 6to4 relay'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'benchmarking'],
  ['198.51.100.0', 24, 'documentation'],
  ['203.0.113.0', 24, 'documentation'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
];

const V6: Row[] = [
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  ['fd00:ec2::254', 128, 'cloud metadata'],
  ['64:ff9b:1::', 48, 'local-use NAT64'],
  ['100::', 64, 'discard-only'],
  ['100:0:0:1::', 64, 'discard-only'],
  ['2001::', 32, 'tunnel (Teredo)'],
  ['2001::', 23, 'protocol assignments'],
  ['2001:db8::', 32, 'documentation'],
  ['3fff::', 20, 'documentation'],
  ['2002::', 16, 'tunnel (6to4)'],
  ['5f00::', 16, 'SRv6'],
  ['fc00::', 7, 'unique-local'],
  ['fe80::', 10, 'link-local'],
  ['fec0::', 10, 'site-local'],
  ['ff00::', 8, 'multicast'],
];

// IPv6 prefixes whose last 32 bits are an IPv4 address reached through them.
const EMBEDS_V4: [string, number][] = [['::ffff:0:0', 96], ['::', 96], ['64:ff9b::', 96]];

const lists = (rows: Row[], family: 'ipv4' | 'ipv6') => rows.map(([n, p, kind]) => {
  const bl = new net.BlockList();
  bl.addSubnet(n, p, family);
  return { bl, kind };
});
const V4_LISTS = lists(V4, 'ipv4');
const V6_LISTS = lists(V6, 'ipv6');
const EMBED_LISTS = EMBEDS_V4.map(([n, p]) => { const bl = new net.BlockList(); bl.addSubnet(n, p, 'ipv6'); return bl; });
const GLOBAL_UNICAST = new net.BlockList();
GLOBAL_UNICAST.addSubnet('2000::', 3, 'ipv6');

/** The 16 bytes of an IPv6 address (net.isIPv6 already true). */
function v6Bytes(ip: string): Uint8Array {
  const groups = expand(ip.replace(/%.*$/, ''));
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { out[i * 2] = g >> 8; out[i * 2 + 1] = g & 255; });
  return out;
}

function expand(ip: string): number[] {
  let s = ip.toLowerCase();
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (dotted) {
    const o = dotted[1].split('.').map(Number);
    s = s.slice(0, -dotted[1].length) + `${((o[0] << 8) | o[1]).toString(16)}:${((o[2] << 8) | o[3]).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, null];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === null ? [] : new Array(8 - h.length - t.length).fill('0');
  return [...h, ...fill, ...t].map((x) => parseInt(x, 16));
}

/** The range an address falls in, or null when it is public (globally reachable). */
export function specialRange(ip: string): RangeKind | null {
  const family = net.isIP(ip);
  if (family === 4) return V4_LISTS.find((r) => r.bl.check(ip, 'ipv4'))?.kind ?? null;
  if (family !== 6) return 'reserved';
  // Exact rows (::, ::1) come before the embedded-IPv4 forms that also cover them.
  const exact = V6_LISTS.slice(0, 3).find((r) => r.bl.check(ip, 'ipv6'));
  if (exact) return exact.kind;
  if (EMBED_LISTS.some((bl) => bl.check(ip, 'ipv6'))) {
    const b = v6Bytes(ip);
    return specialRange(`${b[12]}.${b[13]}.${b[14]}.${b[15]}`);
  }
  const row = V6_LISTS.find((r) => r.bl.check(ip, 'ipv6'));
  if (row) return row.kind;
  return GLOBAL_UNICAST.check(ip, 'ipv6') ? null : 'not global unicast';
}

export function isPublicAddress(ip: string): boolean {
  return specialRange(ip) === null;
}
