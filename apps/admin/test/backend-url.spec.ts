import { backendUrlProblem } from '../src/backends/backend-url.js';

// Backend URLs an admin may not use: link-local and cloud metadata addresses however spelled,
// and credentials in the URL, unless the operator allows the host.

describe('backend URL rules', () => {
  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://169.254.170.2/v1',
    'http://0xa9fea9fe/',
    'http://0xA9.0xFE.0xA9.0xFE/',
    'http://2852039166/',
    'http://0251.0376.0251.0376/',
    'http://169.254.1/',
    'http://[fe80::1]/v1',
    'http://[FEBF::1]/v1',
    'http://[::ffff:169.254.169.254]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[64:ff9b::a9fe:a9fe]/',
    'http://[fd00:ec2::254]/',
    'http://metadata.google.internal/computeMetadata/v1/',
    'http://METADATA.GOOGLE.INTERNAL./',
    'http://100.100.100.200/',
    'http://user:password@gpu1.example.com/v1',
    'https://token@10.0.0.5/v1',
    'ftp://10.0.0.5/',
  ])('refuses %s', async (url) => {
    expect(await backendUrlProblem(url, [])).toEqual(expect.any(String));
  });

  it.each([
    'http://127.0.0.1:8000/v1',
    'http://10.0.0.5:8000/v1',
    'https://gpu1.internal.example/v1',
    'http://[::1]:8000/v1',
    'http://[fd12:3456::1]/v1',
    'http://169.253.255.255/',
  ])('accepts %s', async (url) => {
    expect(await backendUrlProblem(url, [])).toBeNull();
  });

  it('accepts a refused host the operator allowed, but never credentials in the URL', async () => {
    expect(await backendUrlProblem('http://169.254.169.254/v1', ['169.254.169.254'])).toBeNull();
    expect(await backendUrlProblem('http://[fe80::1]/v1', ['fe80::1'])).toBeNull();
    expect(
      await backendUrlProblem('http://a:b@169.254.169.254/v1', ['169.254.169.254']),
    ).not.toBeNull();
  });
});
