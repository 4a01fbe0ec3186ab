#!/usr/bin/env node
// Renders Enclave's nginx site from enclave.conf.template (and the chat upstream include).
//   node render.mjs --out DIR [options]      writes DIR/enclave.conf, DIR/enclave-upstream.conf
//                                            and DIR/enclave-security-headers.conf
//   node render.mjs --out DIR --upstream-only --chat …   rewrites only the upstream (scripts/scale)
// Options (defaults in brackets):
//   --chat LIST            chat instances, host:port or port, comma-separated [127.0.0.1:8080]
//   --admin ADDR           admin app, host:port or port [127.0.0.1:8081]
//   --admin-networks LIST  CIDRs that may reach /admin, /readyz, /metrics [127.0.0.1/32,::1/128]
//   --server-name NAME     [_]              --cert PATH, --key PATH   the TLS pair (required)
//   --https-port N [443]   --http-port N [80]   --listen-address ADDR [all addresses]
//   --tls modern|intermediate   modern = TLS 1.3 only; intermediate adds TLS 1.2 AEAD ciphers [modern]
//   --rate N [10] requests/s per client address, --burst N [40]
//   --max-body-mb N [4]    (keep in step with ENCLAVE_MAX_BODY_MB)
//   --stream-timeout DUR [600s]   how long a streamed answer may go quiet
//   --static-root DIR [/opt/enclave/current/dist/apps/chat/web]   built UI assets (under /assets/)
//   --etc-dir DIR [/etc/enclave]   only named in the header comment
//   --access-log PATH [/var/log/nginx/enclave-access.log]   JSON lines (log_format enclave_json)
//   --real-ip-from LIST    CIDRs of trusted load balancers in front of nginx: the client address
//                          is then taken from --real-ip-header [none: the peer is the client]
//   --real-ip-header NAME [X-Forwarded-For]
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));

const { values: opt } = parseArgs({
  options: {
    out: { type: 'string' },
    'upstream-only': { type: 'boolean', default: false },
    chat: { type: 'string', default: '127.0.0.1:8080' },
    admin: { type: 'string', default: '127.0.0.1:8081' },
    'admin-networks': { type: 'string', default: '127.0.0.1/32,::1/128' },
    'server-name': { type: 'string', default: '_' },
    cert: { type: 'string' },
    key: { type: 'string' },
    'https-port': { type: 'string', default: '443' },
    'http-port': { type: 'string', default: '80' },
    'listen-address': { type: 'string' },
    tls: { type: 'string', default: 'modern' },
    rate: { type: 'string', default: '10' },
    burst: { type: 'string', default: '40' },
    'max-body-mb': { type: 'string', default: '4' },
    'stream-timeout': { type: 'string', default: '600s' },
    'static-root': { type: 'string', default: '/opt/enclave/current/dist/apps/chat/web' },
    'etc-dir': { type: 'string', default: '/etc/enclave' },
    'access-log': { type: 'string', default: '/var/log/nginx/enclave-access.log' },
    'real-ip-from': { type: 'string', default: '' },
    'real-ip-header': { type: 'string', default: 'X-Forwarded-For' },
  },
  strict: true,
});

function fail(message) {
  console.error(`render-nginx: ${message}`);
  process.exit(2);
}

const out = opt.out ? resolve(opt.out) : fail('--out DIR is required');
const upstreamFile = join(out, 'enclave-upstream.conf');
const headersFile = join(out, 'enclave-security-headers.conf');

function address(value, what) {
  const v = value.trim();
  if (/^\d+$/.test(v)) return `127.0.0.1:${port(v, what)}`;
  const m = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d+)$/.exec(v);
  if (!m) fail(`${what} "${v}" is not host:port or a port`);
  return `${m[1]}:${port(m[2], what)}`;
}

function port(value, what) {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(`${what} port "${value}" is not 1-65535`);
  return n;
}

function cidrs(value, what) {
  const list = value
    .split(',')
    .map((n) => n.trim())
    .filter(Boolean);
  for (const n of list) {
    if (!/^[0-9a-fA-F.:]+(\/\d{1,3})?$/.test(n)) fail(`${what} "${n}" is not an address or CIDR`);
  }
  return list;
}

function wholeNumber(value, what) {
  if (!/^\d+$/.test(value) || Number(value) < 1) fail(`--${what} "${value}" is not a whole number`);
  return Number(value);
}

const chat = opt.chat
  .split(',')
  .filter(Boolean)
  .map((c) => address(c, '--chat'));
if (chat.length === 0) fail('--chat names no instance');

// Passive health checks: one failed connection takes an instance out for 10 s, after which
// nginx tries it again with real traffic (a failed try costs nothing: it is retried elsewhere).
const upstream = [
  '# Rendered by deploy/nginx/render.mjs (scripts/scale rewrites it): the chat instances.',
  'upstream enclave_chat {',
  '    least_conn;',
  ...chat.map((a) => `    server ${a} max_fails=1 fail_timeout=10s;`),
  // Idle connections kept open to the instances (per nginx worker), reused for many requests.
  '    keepalive 64;',
  '    keepalive_requests 10000;',
  '    keepalive_timeout 60s;',
  '}',
  '',
].join('\n');

mkdirSync(out, { recursive: true });
writeAtomically(upstreamFile, upstream);

if (!opt['upstream-only']) {
  const cert = opt.cert ?? fail('--cert PATH is required');
  const key = opt.key ?? fail('--key PATH is required');
  const tls = {
    modern: { protocols: 'TLSv1.3', ciphers: '' },
    intermediate: {
      protocols: 'TLSv1.2 TLSv1.3',
      ciphers:
        '    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;\n',
    },
  }[opt.tls];
  if (!tls) fail(`--tls "${opt.tls}" is not modern or intermediate`);
  const networks = cidrs(opt['admin-networks'], '--admin-networks');
  const realIpFrom = cidrs(opt['real-ip-from'], '--real-ip-from');
  if (!/^[A-Za-z0-9-]+$/.test(opt['real-ip-header'])) fail('--real-ip-header is not a header name');
  if (!/^\/[A-Za-z0-9._/-]+$/.test(opt['access-log'])) fail('--access-log is not an absolute path');
  // Behind a load balancer every client would share its address (one rate limit for everyone,
  // one line in the log): trust its header, and only from the balancers named.
  const realIp = realIpFrom.length
    ? [
        ...realIpFrom.map((n) => `    set_real_ip_from ${n};`),
        `    real_ip_header ${opt['real-ip-header']};`,
        '    real_ip_recursive on;',
        '',
      ].join('\n')
    : '';
  const httpsPort = port(opt['https-port'], '--https-port');
  const httpPort = port(opt['http-port'], '--http-port');
  const listen = (p) => (opt['listen-address'] ? `${opt['listen-address']}:${p}` : String(p));
  if (!/^\d+[smh]$/.test(opt['stream-timeout'])) fail('--stream-timeout is like 600s or 10m');
  if (!/^[A-Za-z0-9.*_-]+( [A-Za-z0-9.*_-]+)*$/.test(opt['server-name']))
    fail('--server-name has odd characters');

  const values = {
    ETC_DIR: opt['etc-dir'],
    UPSTREAM_FILE: upstreamFile,
    HEADERS_FILE: headersFile,
    ADMIN_ADDR: address(opt.admin, '--admin'),
    ADMIN_NETWORKS: networks.map((n) => `    ${n} 1;`).join('\n'),
    RATE: wholeNumber(opt.rate, 'rate'),
    BURST: wholeNumber(opt.burst, 'burst'),
    MAX_BODY_MB: wholeNumber(opt['max-body-mb'], 'max-body-mb'),
    STREAM_TIMEOUT: opt['stream-timeout'],
    SERVER_NAME: opt['server-name'],
    HTTP_LISTEN: listen(httpPort),
    HTTPS_LISTEN: listen(httpsPort),
    HTTPS_PORT_SUFFIX: httpsPort === 443 ? '' : `:${httpsPort}`,
    TLS_CERT: resolve(cert),
    TLS_KEY: resolve(key),
    TLS_PROFILE: opt.tls,
    TLS_PROTOCOLS: tls.protocols,
    TLS_CIPHERS: tls.ciphers,
    STATIC_ROOT: resolve(opt['static-root']),
    ACCESS_LOG: opt['access-log'],
    REAL_IP: realIp,
  };
  const template = readFileSync(join(here, 'enclave.conf.template'), 'utf8');
  const site = template.replace(/\{\{([A-Z_]+)\}\}/g, (_m, name) =>
    name in values ? String(values[name]) : fail(`template names unknown {{${name}}}`),
  );
  writeAtomically(headersFile, readFileSync(join(here, 'security-headers.conf'), 'utf8'));
  writeAtomically(join(out, 'enclave.conf'), site);
}

function writeAtomically(path, text) {
  writeFileSync(`${path}.tmp`, text, { mode: 0o644 });
  renameSync(`${path}.tmp`, path);
}
