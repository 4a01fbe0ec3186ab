import { PassThrough } from 'node:stream';
import { createLogger, loggableUrl, redactSecrets } from '../src/logging.js';

describe('log redaction', () => {
  it('masks the secret of every API key in a line and keeps the prefix that names it', () => {
    const line = JSON.stringify({
      msg: 'upstream said: invalid key ek_0123abcd_S3cr3tS3cr3t-_x and ek_garbage',
      url: '/v1/models',
      note: 'key ek_0123abcd is revoked',
    });
    const out = redactSecrets(line);
    expect(out).not.toContain('S3cr3t');
    expect(out).not.toContain('garbage');
    expect(out).toContain('ek_0123abcd_[REDACTED]');
    expect(out).toContain('ek_0123abcd is revoked');
    expect(JSON.parse(out)).toMatchObject({ url: '/v1/models' });
  });

  it('masks credential query values and leaves the rest of the URL', () => {
    expect(loggableUrl('/v1/models?api_key=abc&limit=5&token=t0k')).toBe(
      '/v1/models?api_key=[REDACTED]&limit=5&token=[REDACTED]',
    );
    expect(loggableUrl('/api/auth/oidc/callback?code=c0de&state=st4te')).toBe(
      '/api/auth/oidc/callback?code=[REDACTED]&state=[REDACTED]',
    );
    expect(loggableUrl('/v1/models')).toBe('/v1/models');
  });

  it('masks keys and credential headers in whatever a log call is given', () => {
    const out = new PassThrough();
    let logged = '';
    out.on('data', (d: Buffer) => (logged += d.toString()));
    const log = createLogger('test', 'info', out);
    log.error(
      {
        err: new Error('bad key ek_0123abcd_S3cr3tS3cr3t'),
        req: { headers: { 'x-api-key': 'plain-secret', cookie: 'a=b', 'x-csrf-token': 'c' } },
      },
      'failed for ek_0123abcd_S3cr3tS3cr3t',
    );
    expect(logged).not.toContain('S3cr3t');
    expect(logged).not.toContain('plain-secret');
    expect(JSON.parse(logged).req.headers).toEqual({
      'x-api-key': '[REDACTED]',
      cookie: '[REDACTED]',
      'x-csrf-token': '[REDACTED]',
    });
  });
});
