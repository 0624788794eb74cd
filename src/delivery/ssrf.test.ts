import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { isForbiddenAddress } from './address-policy.js';
import type { Resolver } from './resolve.js';
import { resolveTarget } from './resolve.js';
import { DeliveryError, safePost } from './safe-fetch.js';
import { defaultWebhookPolicy, parseWebhookUrl, WebhookUrlError, type WebhookPolicy } from './url-policy.js';

/** An injected resolver: no real DNS in tests. */
const fakeDns: Record<string, string[]> = {
  'public.example': ['93.184.215.14'],
  'internal.example': ['10.0.0.1'],
  'home.example': ['192.168.1.1'],
  'corp.example': ['172.16.0.1'],
  'ula.example': ['fd00::1'],
  'mixed.example': ['93.184.215.14', '10.1.2.3'],
  '127.0.0.1.nip.io': ['127.0.0.1'],
  'localtest.me': ['127.0.0.1', '::1'],
  'metadata.example': ['169.254.169.254'],
  'mapped.example': ['::ffff:10.0.0.1'],
};
const resolver: Resolver = async (host) => {
  const answers = fakeDns[host];
  if (!answers) throw new Error('NXDOMAIN');
  return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
};

async function check(url: string, policy: WebhookPolicy = defaultWebhookPolicy) {
  return resolveTarget(parseWebhookUrl(url, policy), policy, resolver);
}

const MALICIOUS: [string, string][] = [
  ['http://93.184.215.14/hook', 'scheme_not_allowed'],
  ['ftp://example.com/hook', 'scheme_not_allowed'],
  ['file:///etc/passwd', 'scheme_not_allowed'],
  ['gopher://127.0.0.1:25/', 'scheme_not_allowed'],
  ['javascript:alert(1)', 'scheme_not_allowed'],
  ['data:text/plain,hi', 'scheme_not_allowed'],
  ['https://127.0.0.1/', 'forbidden_address'],
  ['https://127.1/', 'forbidden_address'],
  ['https://2130706433/', 'forbidden_address'],
  ['https://0x7f000001/', 'forbidden_address'],
  ['https://0x7f.1/', 'forbidden_address'],
  ['https://017700000001/', 'forbidden_address'],
  ['https://0177.0.0.1/', 'forbidden_address'],
  ['https://0/', 'forbidden_address'],
  ['https://0.0.0.0/', 'forbidden_address'],
  ['https://[::]/', 'forbidden_address'],
  ['https://[::1]/', 'forbidden_address'],
  ['https://[::ffff:127.0.0.1]/', 'forbidden_address'],
  ['https://[::ffff:7f00:1]/', 'forbidden_address'],
  ['https://[::127.0.0.1]/', 'forbidden_address'],
  ['https://[::a00:1]/', 'forbidden_address'],
  ['https://[64:ff9b::a9fe:a9fe]/', 'forbidden_address'],
  ['https://[64:ff9b::7f00:1]/', 'forbidden_address'],
  ['https://[2002:7f00:1::]/', 'forbidden_address'],
  ['https://[2002:a00:1::]/', 'forbidden_address'],
  ['https://[fe80::1]/', 'forbidden_address'],
  ['https://[fd00::1]/', 'forbidden_address'],
  ['https://[fd00:ec2::254]/', 'forbidden_address'],
  ['https://[ff02::1]/', 'forbidden_address'],
  ['https://[2001:db8::1]/', 'forbidden_address'],
  ['https://169.254.169.254/latest/meta-data', 'forbidden_address'],
  ['https://169.254.1.1/', 'forbidden_address'],
  ['https://100.64.0.1/', 'forbidden_address'],
  ['https://100.100.100.200/', 'forbidden_address'],
  ['https://168.63.129.16/', 'forbidden_address'],
  ['https://10.0.0.1/', 'forbidden_address'],
  ['https://172.16.0.1/', 'forbidden_address'],
  ['https://192.168.0.1/', 'forbidden_address'],
  ['https://224.0.0.1/', 'forbidden_address'],
  ['https://255.255.255.255/', 'forbidden_address'],
  ['https://240.0.0.1/', 'forbidden_address'],
  ['https://198.18.0.1/', 'forbidden_address'],
  ['https://192.0.0.1/', 'forbidden_address'],
  ['https://192.0.2.1/', 'forbidden_address'],
  ['https://203.0.113.9/', 'forbidden_address'],
  ['https://user:pass@public.example/', 'credentials_in_url'],
  ['https://public.example@127.0.0.1/', 'credentials_in_url'],
  ['https://internal.example/hook', 'forbidden_address'],
  ['https://home.example/hook', 'forbidden_address'],
  ['https://corp.example/hook', 'forbidden_address'],
  ['https://ula.example/hook', 'forbidden_address'],
  ['https://mixed.example/hook', 'forbidden_address'],
  ['https://127.0.0.1.nip.io/hook', 'forbidden_address'],
  ['https://localtest.me/hook', 'forbidden_address'],
  ['https://metadata.example/hook', 'forbidden_address'],
  ['https://mapped.example/hook', 'forbidden_address'],
  ['https://no-such-host.example/hook', 'unresolvable_host'],
  ['https://public.example/hook#frag', 'invalid_url'],
  [`https://public.example/${'a'.repeat(2049)}`, 'invalid_url'],
  ['not a url', 'invalid_url'],
];

describe('SSRF policy', () => {
  test(`${MALICIOUS.length} malicious URLs are refused under the default policy, each for the right reason`, async () => {
    for (const [url, code] of MALICIOUS) {
      await assert.rejects(check(url), (e) => e instanceof WebhookUrlError && e.code === code, `${url} should be refused with ${code}`);
    }
    console.log(`refused ${MALICIOUS.length} malicious URLs`);
  });

  test('public targets pass, and the checked address is returned', async () => {
    assert.equal((await check('https://public.example/hook')).address, '93.184.215.14');
    assert.equal((await check('https://93.184.215.14:8443/hook')).address, '93.184.215.14');
    assert.equal((await check('https://[2606:4700::1111]/')).address, '2606:4700::1111');
  });

  test('ports can be restricted; the loopback allowance admits loopback and nothing else private', async () => {
    const ports = { ...defaultWebhookPolicy, allowedPorts: [443] };
    await assert.rejects(
      check('https://public.example:8443/', ports),
      (e) => e instanceof WebhookUrlError && e.code === 'port_not_allowed',
    );
    const loopback = { allowHttp: true, allowLoopback: true, allowedPorts: null };
    assert.equal((await check('http://127.0.0.1:9/', loopback)).address, '127.0.0.1');
    assert.equal((await check('http://[::1]:9/', loopback)).address, '::1');
    for (const url of ['http://10.0.0.1/', 'http://169.254.169.254/', 'http://[::ffff:10.0.0.1]/', 'http://0.0.0.0/']) {
      await assert.rejects(check(url, loopback), WebhookUrlError, url);
    }
  });

  test('address classification', () => {
    assert.equal(isForbiddenAddress('8.8.8.8'), null);
    assert.equal(isForbiddenAddress('2001:4860:4860::8888'), null);
    assert.equal(isForbiddenAddress('::ffff:8.8.8.8'), null);
    assert.equal(isForbiddenAddress('127.0.0.1'), 'loopback');
    assert.equal(isForbiddenAddress('::ffff:192.168.0.1'), 'ipv4Mapped:private');
    assert.equal(isForbiddenAddress('64:ff9b::a9fe:a9fe'), 'nat64:metadata');
    assert.equal(isForbiddenAddress('64:ff9b::a00:1'), 'nat64:private');
    assert.equal(isForbiddenAddress('::7f00:1'), 'ipv4Compatible:loopback');
    assert.equal(isForbiddenAddress('169.254.169.254'), 'metadata');
    assert.equal(isForbiddenAddress('not-an-ip'), 'invalid');
  });
});

describe('safePost', () => {
  const requests: { server: string; host?: string }[] = [];
  const servers: ReturnType<typeof createServer>[] = [];
  let port = 0;
  let internalPort = 0;
  const loopback: WebhookPolicy = { allowHttp: true, allowLoopback: true, allowedPorts: null };

  before(async () => {
    const listen = async (name: string, handler: (req: any, res: any) => void) => {
      const server = createServer((req, res) => {
        requests.push({ server: name, host: req.headers.host });
        handler(req, res);
      });
      servers.push(server);
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return (server.address() as AddressInfo).port;
    };
    internalPort = await listen('internal', (_req, res) => res.end('secret'));
    port = await listen('receiver', (req, res) => {
      if (req.url === '/redirect') res.writeHead(302, { location: `http://127.0.0.1:${internalPort}/` }).end();
      else if (req.url === '/hang') setTimeout(() => res.end('late'), 3000);
      else if (req.url === '/huge') {
        res.writeHead(200);
        const chunk = 'x'.repeat(64 * 1024);
        let sent = 0;
        const pump = () => {
          while (sent < 100 && res.write(chunk)) sent++;
          if (sent < 100) res.once('drain', pump);
          else res.end();
        };
        pump();
      } else req.resume().on('end', () => res.writeHead(204).end());
    });
  });
  after(() => servers.forEach((s) => s.closeAllConnections?.() ?? s.close()));

  test('the default policy refuses a loopback receiver before connecting', async () => {
    const before = requests.length;
    await assert.rejects(safePost(`https://127.0.0.1:${port}/`, '{}', {}, { policy: defaultWebhookPolicy }), WebhookUrlError);
    await assert.rejects(
      safePost(`http://127.0.0.1:${port}/`, '{}', {}, { policy: { ...defaultWebhookPolicy, allowHttp: true } }),
      WebhookUrlError,
    );
    assert.equal(requests.length, before);
  });

  test('an explicit loopback policy delivers to a real receiver', async () => {
    const res = await safePost(`http://127.0.0.1:${port}/hook`, '{"a":1}', { 'content-type': 'application/json' }, { policy: loopback });
    assert.equal(res.status, 204);
    assert.equal(res.address, '127.0.0.1');
  });

  test('redirects are returned, never followed', async () => {
    const before = requests.filter((r) => r.server === 'internal').length;
    const res = await safePost(`http://127.0.0.1:${port}/redirect`, '{}', {}, { policy: loopback });
    assert.equal(res.status, 302);
    assert.equal(requests.filter((r) => r.server === 'internal').length, before);
  });

  test('a hanging receiver times out; a huge answer is capped', async () => {
    await assert.rejects(
      safePost(`http://127.0.0.1:${port}/hang`, '{}', {}, { policy: loopback, totalTimeoutMs: 200 }),
      (e) => e instanceof DeliveryError && e.code === 'timeout',
    );
    await assert.rejects(
      safePost(`http://127.0.0.1:${port}/huge`, '{}', {}, { policy: loopback, maxResponseBytes: 1024 }),
      (e) => e instanceof DeliveryError && e.code === 'response_too_large',
    );
  });

  test('DNS rebinding: one lookup, and the connection goes only to the checked address', async () => {
    let calls = 0;
    const rebinding: Resolver = async () =>
      ++calls === 1 ? [{ address: '127.0.0.1', family: 4 }] : [{ address: '169.254.169.254', family: 4 }];
    const before = requests.length;
    const res = await safePost(`http://rebind.test:${port}/hook`, '{}', {}, { policy: loopback, resolver: rebinding });
    assert.equal(res.status, 204);
    assert.equal(res.address, '127.0.0.1');
    assert.equal(calls, 1, 'resolved exactly once');
    assert.equal(requests.length, before + 1);
    assert.equal(requests.at(-1)!.host, `rebind.test:${port}`, 'the Host header keeps the name');
  });
});
