// The SSRF address table (issue 9, item 7): every special-purpose form, as an address and as a
// URL host (decimal, octal, hex and short IPv4 spellings, bracketed IPv6), judged by the
// classifier and the URL parser without sending a packet; refusals never echo what a host name
// resolved to or a socket's peer address; URLs in logs lose their query values.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { isPublicAddress, specialRange } from '../src/services/media/address-ranges.ts';
import { fetchImage } from '../src/services/media/image-input.ts';
import { redactUrl } from '../src/services/logs/url-redact.ts';
import { redactParams } from '../src/services/logs/redact.ts';

const NOT_PUBLIC: [string, string][] = [
  // IPv4 special-purpose registry
  ['0.0.0.0', 'this-network'], ['0.1.2.3', 'this-network'], ['10.0.0.1', 'private'], ['172.16.0.1', 'private'], ['172.31.255.255', 'private'],
  ['192.168.0.1', 'private'], ['100.64.0.1', 'shared (CGNAT)'], ['100.127.255.254', 'shared (CGNAT)'], ['127.0.0.1', 'loopback'], ['127.255.255.254', 'loopback'],
  ['169.254.0.1', 'link-local'], ['169.254.169.254', 'cloud metadata'], ['192.0.0.8', 'protocol assignments'], ['192.0.2.1', 'documentation'],
  ['198.51.100.1', 'documentation'], ['203.0.113.1', 'documentation'], ['198.18.0.1', 'benchmarking'], ['198.19.255.255', 'benchmarking'],
  ['192.88.99.1', 'deprecated 6to4 relay'], ['224.0.0.1', 'multicast'], ['239.255.255.250', 'multicast'], ['240.0.0.1', 'reserved'], ['255.255.255.255', 'broadcast'],
  // IPv6 special-purpose registry
  ['::', 'unspecified'], ['::1', 'loopback'], ['fe80::1', 'link-local'], ['febf::1', 'link-local'], ['fc00::1', 'unique-local'], ['fd12:3456::1', 'unique-local'],
  ['fd00:ec2::254', 'cloud metadata'], ['fec0::1', 'site-local'], ['ff02::1', 'multicast'], ['2001:db8::1', 'documentation'], ['3fff::1', 'documentation'],
  ['100::1', 'discard-only'], ['2001::1', 'tunnel (Teredo)'], ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'tunnel (Teredo)'], ['2001:2::1', 'protocol assignments'],
  ['2002:7f00:1::1', 'tunnel (6to4)'], ['2002:808:808::1', 'tunnel (6to4)'], ['64:ff9b:1::1', 'local-use NAT64'], ['64:ff9b:1:ffff::a00:1', 'local-use NAT64'],
  ['5f00::1', 'SRv6'], ['1::1', 'not global unicast'], ['4000::1', 'not global unicast'],
  // IPv6 forms carrying an IPv4 address, judged by it: IPv4-compatible ::/96, IPv4-mapped, NAT64
  ['::7f00:1', 'loopback'], ['::127.0.0.1', 'loopback'], ['::a00:1', 'private'], ['::a9fe:a9fe', 'cloud metadata'],
  ['::ffff:0:0', 'this-network'], ['::ffff:127.0.0.1', 'loopback'], ['::ffff:7f00:1', 'loopback'], ['::ffff:169.254.169.254', 'cloud metadata'], ['::ffff:c0a8:101', 'private'],
  ['64:ff9b::7f00:1', 'loopback'], ['64:ff9b::10.0.0.1', 'private'], ['64:ff9b::a9fe:a9fe', 'cloud metadata'],
];

const PUBLIC = ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '198.20.0.1', '192.0.3.1', '2606:4700:4700::1111', '2a00:1450:4001::200e', '2001:200::1',
  '::ffff:8.8.8.8', '64:ff9b::808:808', '::808:808'];

// URL hosts as a client may spell them; the WHATWG parser (the one fetchImage uses) folds them.
const URL_HOSTS: [string, string][] = [
  ['2130706433', 'loopback'], ['0177.0.0.1', 'loopback'], ['0x7f.1', 'loopback'], ['127.1', 'loopback'], ['0x7f000001', 'loopback'], ['017700000001', 'loopback'],
  ['0', 'this-network'], ['0x0a.0.0.1', 'private'], ['10.1', 'private'], ['3232235777', 'private'], ['0xa9.0xfe.0xa9.0xfe', 'cloud metadata'], ['2852039166', 'cloud metadata'],
  ['0251.0376.0251.0376', 'cloud metadata'], ['100.64.1', 'shared (CGNAT)'],
  ['[::1]', 'loopback'], ['[::127.0.0.1]', 'loopback'], ['[::7f00:1]', 'loopback'], ['[::ffff:127.0.0.1]', 'loopback'], ['[0:0:0:0:0:ffff:7f00:1]', 'loopback'],
  ['[64:ff9b::127.0.0.1]', 'loopback'], ['[64:ff9b:1::1]', 'local-use NAT64'], ['[2002:a9fe:a9fe::1]', 'tunnel (6to4)'], ['[2001::a9fe:a9fe]', 'tunnel (Teredo)'],
  ['[fd00:ec2::254]', 'cloud metadata'], ['[fe80::1]', 'link-local'], ['[FC00::1]', 'unique-local'],
];

const code = async (p: Promise<unknown>) => p.then(() => 'OK', (e) => (e as { code?: string }).code ?? (e as Error).message);
const message = async (p: Promise<unknown>) => p.then(() => '', (e) => (e as Error).message);

describe('special-purpose address table', () => {
  it.each(NOT_PUBLIC)('%s is not public (%s)', (ip, kind) => {
    expect(specialRange(ip)).toBe(kind);
    expect(isPublicAddress(ip)).toBe(false);
  });

  it('globally reachable addresses, also inside mapped and NAT64 forms, are public', () => {
    for (const ip of PUBLIC) expect(specialRange(ip), ip).toBeNull();
    expect(isPublicAddress('not-an-ip')).toBe(false);
  });

  it.each(URL_HOSTS)('URL host %s is refused before any connection (%s)', async (host, kind) => {
    const u = new URL(`http://${host}:9/x.jpg`);
    expect(specialRange(u.hostname.replace(/^\[|\]$/g, ''))).toBe(kind);
    // Port 9 (discard) on these hosts would hang or fail differently if a connection were tried;
    // the refusal comes from the classifier, at once, naming the host as parsed.
    const started = Date.now();
    const m = await message(fetchImage(`http://${host}:9/x.jpg`, { allowList: [], timeoutMs: 60_000 }));
    expect(m).toMatch(/not public/);
    expect(Date.now() - started).toBeLessThan(1000);
  });
});

describe('refusals name the host, never the address it resolved to', () => {
  it('a host name resolving to loopback is refused without its address', async () => {
    // localhost resolves from the hosts file: no DNS packet is sent.
    const m = await message(fetchImage('http://localhost:9/x.jpg', { allowList: [] }));
    expect(m).toMatch(/host localhost is or resolves to an address that is not public/);
    expect(m).not.toMatch(/127\.0\.0\.1|::1|\[::1\]/);
  });

  it('a failed connection reports the error code, not the peer address', async () => {
    // A port that was just free: the connection is refused.
    const s = http.createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as AddressInfo).port;
    await new Promise((r) => s.close(r));
    const m = await message(fetchImage(`http://127.0.0.1:${port}/x.jpg`, { allowList: [`127.0.0.1:${port}`] }));
    expect(m).toMatch(/connection failed \(ECONNREFUSED\)/);
    expect(m).not.toContain(`127.0.0.1:${port}`);
  });
});

describe('URLs in logs lose their query values', () => {
  const presigned = 'https://bucket.s3.amazonaws.com/a/b.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAEXAMPLE%2F20250101%2Fus-east-1%2Fs3%2Faws4_request'
    + '&X-Amz-Date=20250101T000000Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host&X-Amz-Signature=0123456789abcdef0123456789abcdef#frag';

  it('keeps scheme, host, path and parameter names; drops every value, credentials and fragment', () => {
    const r = redactUrl(presigned);
    expect(r).toBe('https://bucket.s3.amazonaws.com/a/b.jpg?X-Amz-Algorithm=REDACTED&X-Amz-Credential=REDACTED&X-Amz-Date=REDACTED&X-Amz-Expires=REDACTED&X-Amz-SignedHeaders=REDACTED&X-Amz-Signature=REDACTED');
    for (const secret of ['0123456789abcdef', 'AKIAEXAMPLE', 'frag']) expect(r).not.toContain(secret);
    expect(redactUrl('https://cdn.example/x.jpg?sign=1700000000-abc-0-deadbeef&token=t0k3n&sig=s1g')).toBe('https://cdn.example/x.jpg?sign=REDACTED&token=REDACTED&sig=REDACTED');
    expect(redactUrl('https://u:p@h.example/x.jpg')).toBe('https://h.example/x.jpg');
    expect(redactUrl('https://h.example/x.jpg')).toBe('https://h.example/x.jpg');
    // Not parseable as a URL: everything from the query on goes.
    expect(redactUrl('http://[bad/x.jpg?Signature=abc')).toBe('http://[bad/x.jpg?REDACTED');
  });

  it('the error-log redactor keeps no more of a URL than its origin', () => {
    const r = redactParams({ ModelUrl: presigned, MergeInfos: [{ Url: 'https://h.example/u.jpg?Expires=1&Signature=zzz&OSSAccessKeyId=id' }] }) as any;
    expect(JSON.stringify(r.ModelUrl)).not.toContain('0123456789abcdef');
    // Path and query may carry personal data or a signature: the error log keeps where it pointed.
    expect(r.MergeInfos[0].Url).toEqual({ redacted: true, bytes: 65, origin: 'https://h.example' });
  });
});
