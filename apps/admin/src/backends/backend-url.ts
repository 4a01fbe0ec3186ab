import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { ApiError } from '@enclave/http';

/** Host names of cloud metadata services, refused like their addresses. */
const METADATA_NAMES = new Set([
  'metadata',
  'metadata.google.internal',
  'metadata.goog',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.azure.com',
]);

/** How long a backend's host name may take to resolve before it is judged by its name alone. */
const LOOKUP_TIMEOUT_MS = 2_000;

/**
 * Why a backend URL must not be used, or null. Enclave sends prompts and the backend's API key
 * there, so link-local and cloud metadata addresses are refused however they are spelled
 * (`0xa9fea9fe`, `2852039166`, `[::ffff:169.254.169.254]`, `[fe80::1]`, `[fd00:ec2::254]`, or a
 * name resolving to one), as are credentials in the URL; `allowedHosts` (ENCLAVE_BACKEND_ALLOWED_HOSTS)
 * lets an operator permit a host regardless.
 */
export async function backendUrlProblem(
  raw: string,
  allowedHosts: string[],
): Promise<string | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'it is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    return 'only http and https are allowed';
  if (url.username || url.password) {
    return 'it carries a user name or password; give the backend key as apiKey instead';
  }
  // WHATWG parsing has already turned hex, octal and decimal IPv4 forms into dotted quads.
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (allowedHosts.includes(host)) return null;
  if (METADATA_NAMES.has(host.replace(/\.$/, ''))) return `${host} is a cloud metadata service`;
  const addresses = isIP(host) ? [host] : await resolve(host);
  for (const address of addresses) {
    const why = forbiddenAddress(address);
    if (why) return isIP(host) ? `${host} is ${why}` : `${host} resolves to ${address}, ${why}`;
  }
  return null;
}

/** backendUrlProblem as a 400 `forbidden_backend_url`. */
export async function checkBackendUrl(raw: string, allowedHosts: string[]): Promise<void> {
  const problem = await backendUrlProblem(raw, allowedHosts);
  if (problem) {
    throw new ApiError(
      400,
      'forbidden_backend_url',
      `This backend URL is refused: ${problem}. An operator can allow a host with ENCLAVE_BACKEND_ALLOWED_HOSTS.`,
      { param: 'baseUrl' },
    );
  }
}

async function resolve(host: string): Promise<string[]> {
  const timeout = new Promise<never[]>((done) =>
    setTimeout(() => done([]), LOOKUP_TIMEOUT_MS).unref(),
  );
  try {
    const found = lookup(host, { all: true, verbatim: true }).then((r) => r.map((a) => a.address));
    return await Promise.race([found, timeout]);
  } catch {
    // Unresolvable now: the health check will say so; nothing is sent to it.
    return [];
  }
}

/** What is wrong with an IP address as a backend, or null. */
export function forbiddenAddress(address: string): string | null {
  if (isIP(address) === 4) return forbiddenV4(address);
  const words = ipv6Words(address);
  if (!words) return null;
  if ((words[0]! & 0xffc0) === 0xfe80) return 'an IPv6 link-local address';
  if (words.join(':') === [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254].join(':')) {
    return 'the cloud metadata service';
  }
  // IPv4 inside IPv6: mapped (::ffff:a.b.c.d), compatible (::a.b.c.d) and NAT64 (64:ff9b::).
  const mapped = words.slice(0, 5).every((w) => w === 0) && (words[5] === 0xffff || words[5] === 0);
  const nat64 = words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0);
  if (mapped || nat64) {
    const v4 = [words[6]! >> 8, words[6]! & 0xff, words[7]! >> 8, words[7]! & 0xff].join('.');
    return forbiddenV4(v4);
  }
  return null;
}

function forbiddenV4(address: string): string | null {
  const [a, b] = address.split('.').map(Number);
  if (a === 169 && b === 254) return 'a link-local address (cloud metadata services live there)';
  if (address === '100.100.100.200' || address === '192.0.0.192') {
    return 'a cloud metadata service';
  }
  return null;
}

/** The eight 16-bit words of an IPv6 address, or null when it is not one. */
function ipv6Words(address: string): number[] | null {
  if (isIP(address) !== 6) return null;
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (dotted) {
    const [p, q, r, s] = dotted[1]!.split('.').map(Number);
    text =
      text.slice(0, -dotted[1]!.length) +
      `${((p! << 8) | q!).toString(16)}:${((r! << 8) | s!).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const part = (s: string | undefined) => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const left = part(head);
  const right = part(tail);
  const zeros = tail === undefined ? [] : Array(8 - left.length - right.length).fill(0);
  const words = [...left, ...zeros, ...right];
  return words.length === 8 ? words : null;
}
