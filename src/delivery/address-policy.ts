/**
 * Which IP addresses a webhook may reach: globally routable unicast only. ipaddr.js classifies the
 * ranges; the rules it does not cover (addresses embedded in IPv6 transition forms, IPv4-compatible
 * ::/96, cloud metadata endpoints in public ranges) are added here.
 */
import ipaddr from 'ipaddr.js';

const METADATA = new Set(['169.254.169.254', '100.100.100.200', '168.63.129.16', '192.0.0.192', 'fd00:ec2::254']);

const V4_FORBIDDEN: [string, string][] = [
  ['0.0.0.0/8', 'unspecified'],
  ['192.0.0.0/24', 'reserved'],
  ['198.18.0.0/15', 'benchmarking'],
  ['240.0.0.0/4', 'reserved'],
];

const V6_FORBIDDEN: [string, string][] = [
  ['2001::/23', 'reserved'], // IETF protocol assignments: Teredo (2001::/32), ORCHID, benchmarking…
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['100::/64', 'discard'],
  ['5f00::/16', 'reserved'],
];

/** The reason an address is forbidden, or null when it is a public unicast address. */
export function isForbiddenAddress(ip: string): string | null {
  if (!ipaddr.isValid(ip)) return 'invalid';
  const addr = ipaddr.parse(ip);
  if (METADATA.has(addr.toNormalizedString()) || METADATA.has(addr.toString())) return 'metadata';
  return addr.kind() === 'ipv4' ? forbiddenV4(addr as ipaddr.IPv4) : forbiddenV6(addr as ipaddr.IPv6);
}

function forbiddenV4(addr: ipaddr.IPv4): string | null {
  if (METADATA.has(addr.toString())) return 'metadata';
  for (const [cidr, reason] of V4_FORBIDDEN) if (addr.match(ipaddr.parseCIDR(cidr))) return reason;
  const range = addr.range();
  return range === 'unicast' ? null : range;
}

function forbiddenV6(addr: ipaddr.IPv6): string | null {
  const embedded = embeddedV4(addr);
  if (embedded) {
    const inner = forbiddenV4(embedded.v4);
    return inner ? `${embedded.form}:${inner}` : embedded.form === 'ipv4Compatible' ? 'ipv4Compatible' : null;
  }
  for (const [cidr, reason] of V6_FORBIDDEN) if (addr.match(ipaddr.parseCIDR(cidr))) return reason;
  const range = addr.range();
  return range === 'unicast' ? null : range;
}

/** IPv4 addresses carried inside IPv6 forms that routers or stacks may translate back to IPv4. */
function embeddedV4(addr: ipaddr.IPv6): { form: string; v4: ipaddr.IPv4 } | null {
  const p = addr.parts;
  const last32 = () => new ipaddr.IPv4([p[6]! >> 8, p[6]! & 255, p[7]! >> 8, p[7]! & 255]);
  if (addr.isIPv4MappedAddress()) return { form: 'ipv4Mapped', v4: addr.toIPv4Address() };
  if (p.slice(0, 6).every((x) => x === 0) && (p[6] !== 0 || p[7]! > 1)) return { form: 'ipv4Compatible', v4: last32() };
  if (addr.match(ipaddr.parseCIDR('64:ff9b::/96'))) return { form: 'nat64', v4: last32() };
  if (addr.match(ipaddr.parseCIDR('64:ff9b:1::/48'))) return { form: 'nat64', v4: last32() };
  if (p[0] === 0x2002) return { form: '6to4', v4: new ipaddr.IPv4([p[1]! >> 8, p[1]! & 255, p[2]! >> 8, p[2]! & 255]) };
  return null;
}
