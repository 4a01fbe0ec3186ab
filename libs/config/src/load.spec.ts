import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from './load.js';

const NO_FILE = '/nonexistent/enclave.env';

function errorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads the signing key from the systemd credential when the unit has one', () => {
    const creds = mkdtempSync(join(tmpdir(), 'creds-'));
    const env = { ENCLAVE_DATA_DIR: '/var/lib/enclave', CREDENTIALS_DIRECTORY: creds };
    // A unit without the credential (chat, admin): the configured path, as before.
    expect(loadConfig(env, NO_FILE).audit.signingKeyFile).toBe(
      '/var/lib/enclave/audit/signing-key.pem',
    );
    writeFileSync(join(creds, 'audit-signing-key'), 'pem');
    const audit = loadConfig({ ...env, AUDIT_SIGNING_KEY_FILE: '/etc/enclave/key.pem' }, NO_FILE);
    expect(audit.audit.signingKeyFile).toBe(join(creds, 'audit-signing-key'));
    expect(audit.audit.keyringFile).toBe('/var/lib/enclave/audit/keyring.json');
  });

  it('runs on defaults alone: embedded database and the bundled simulator', () => {
    const config = loadConfig({}, NO_FILE);
    expect(config.ports).toEqual({ chat: 8080, admin: 8081, audit: 8082, llmSim: 8090 });
    expect(config.database.url).toBeNull();
    expect(config.database.migrateOnStart).toBe(true);
    expect(config.upstream).toEqual({
      url: 'http://127.0.0.1:8090/v1',
      apiKey: null,
      isBundledSimulator: true,
      timeoutMs: 60_000,
      healthIntervalMs: 5_000,
    });
    expect(config.masterKey).toBeNull();
    expect(config.http.maxBodyBytes).toBe(4 * 1024 * 1024);
    expect(config.auth).toEqual({
      sessionTtlHours: 12,
      signIn: { accountFreeFailures: 5, clientFreeFailures: 20, maxDelaySeconds: 900 },
      anonymousRatePerMinute: 300,
      denialWindowSeconds: 60,
      localLogin: true,
      oidc: null,
    });
    expect(config.configFile).toBeNull();
  });

  it('parses typed values from the environment', () => {
    const config = loadConfig(
      {
        CHAT_PORT: '9000',
        ENCLAVE_MIGRATE_ON_START: 'no',
        DATABASE_URL: 'postgres://enclave:pw@db1:5432/enclave',
        ENCLAVE_UPSTREAM_URL: 'http://gpu1:8000/v1',
        LLM_SIM_MODELS: 'a, b ,c',
        LLM_SIM_ERROR_RATE: '0.3',
      },
      NO_FILE,
    );
    expect(config.ports.chat).toBe(9000);
    expect(config.database.migrateOnStart).toBe(false);
    expect(config.database.url).toBe('postgres://enclave:pw@db1:5432/enclave');
    expect(config.upstream).toMatchObject({
      url: 'http://gpu1:8000/v1',
      isBundledSimulator: false,
    });
    expect(config.llmSim.models).toEqual(['a', 'b', 'c']);
    expect(config.llmSim.errorRate).toBe(0.3);
  });

  it.each([
    ['CHAT_PORT', 'abc', 'a whole number from 1 to 65535'],
    ['CHAT_PORT', '70000', 'a whole number from 1 to 65535'],
    ['LOG_LEVEL', 'loud', 'one of fatal, error'],
    ['DATABASE_URL', 'mysql://x@y/z', 'a postgres://'],
    ['ENCLAVE_MIGRATE_ON_START', 'maybe', 'true or false'],
    ['LLM_SIM_ERROR_RATE', '1.5', 'a number from 0 to 1'],
    ['ENCLAVE_UPSTREAM_URL', 'gpu1:8000', 'an http:// or https:// URL'],
  ])(
    'rejects %s=%s with one line naming the key, the value and what is accepted',
    (key, value, expected) => {
      const err = errorOf(() => loadConfig({ [key]: value }, NO_FILE));
      expect(err.key).toBe(key);
      expect(err.message).toContain(`${key}=${JSON.stringify(value)}`);
      expect(err.message).toContain(`expected ${expected}`);
      expect(err.message).not.toContain('\n');
    },
  );

  it('reads the env file named by ENCLAVE_CONFIG; the environment wins over it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enclave-config-'));
    const file = join(dir, 'enclave.env');
    writeFileSync(file, '# comment\nCHAT_PORT=7000\nADMIN_PORT=7001\nLOG_LEVEL="debug"\n');
    const config = loadConfig({ ENCLAVE_CONFIG: file, ADMIN_PORT: '7101' }, NO_FILE);
    expect(config.ports.chat).toBe(7000);
    expect(config.ports.admin).toBe(7101);
    expect(config.logLevel).toBe('debug');
    expect(config.configFile).toBe(file);
  });

  it('uses the default file when it exists and ENCLAVE_CONFIG is unset', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enclave-config-'));
    const file = join(dir, 'enclave.env');
    writeFileSync(file, 'AUDIT_PORT=7002\n');
    expect(loadConfig({}, file).ports.audit).toBe(7002);
  });

  it('names ENCLAVE_CONFIG when the file it names does not exist', () => {
    const err = errorOf(() => loadConfig({ ENCLAVE_CONFIG: '/nope/enclave.env' }, NO_FILE));
    expect(err.key).toBe('ENCLAVE_CONFIG');
    expect(err.message).toMatch(
      /ENCLAVE_CONFIG="\/nope\/enclave.env" cannot be read \(no such file\)/,
    );
  });

  it('reports an invalid value from the env file as well', () => {
    const dir = mkdtempSync(join(tmpdir(), 'enclave-config-'));
    const file = join(dir, 'enclave.env');
    writeFileSync(file, 'DATABASE_POOL_SIZE=0\n');
    const err = errorOf(() => loadConfig({ ENCLAVE_CONFIG: file }, NO_FILE));
    expect(err.message).toContain('DATABASE_POOL_SIZE="0" is invalid');
  });
});

describe('single sign-on config', () => {
  const SSO = {
    ENCLAVE_OIDC_ISSUER: 'https://idp.example.com/realms/corp',
    ENCLAVE_OIDC_CLIENT_ID: 'enclave',
    ENCLAVE_PUBLIC_URL: 'https://enclave.example.com/',
    ENCLAVE_OIDC_ROLE_MAP: 'enclave-admins:admin, cn=auditors:ou=x:auditor,staff:user',
  };

  it('derives the redirect URI from the public URL and parses the role map', () => {
    const config = loadConfig(SSO, NO_FILE);
    expect(config.publicUrl).toBe('https://enclave.example.com');
    expect(config.auth.oidc).toEqual({
      issuer: 'https://idp.example.com/realms/corp',
      clientId: 'enclave',
      clientSecret: null,
      redirectUri: 'https://enclave.example.com/api/auth/oidc/callback',
      roleClaim: 'groups',
      roleMap: { 'enclave-admins': 'admin', 'cn=auditors:ou=x': 'auditor', staff: 'user' },
      groupMap: null,
      label: 'SSO',
    });
  });

  it('parses the group map: a claim value may name several groups', () => {
    const config = loadConfig(
      {
        ...SSO,
        ENCLAVE_OIDC_GROUP_MAP: 'legal-staff:Legal, cn=x:ou=y:Board,legal-staff:Contracts',
      },
      NO_FILE,
    );
    expect(config.auth.oidc!.groupMap).toEqual({
      'legal-staff': ['Legal', 'Contracts'],
      'cn=x:ou=y': ['Board'],
    });
    const err = errorOf(() => loadConfig({ ...SSO, ENCLAVE_OIDC_GROUP_MAP: 'no-group' }, NO_FILE));
    expect(err.key).toBe('ENCLAVE_OIDC_GROUP_MAP');
  });

  it.each(['ENCLAVE_OIDC_CLIENT_ID', 'ENCLAVE_PUBLIC_URL', 'ENCLAVE_OIDC_ROLE_MAP'])(
    'names %s when SSO is on without it',
    (key) => {
      const err = errorOf(() => loadConfig({ ...SSO, [key]: undefined }, NO_FILE));
      expect(err.key).toBe(key);
      expect(err.message).toContain('single sign-on');
    },
  );

  it('refuses a role map naming no known role, and a plain-http issuer off loopback', () => {
    expect(
      errorOf(() => loadConfig({ ...SSO, ENCLAVE_OIDC_ROLE_MAP: 'x:root' }, NO_FILE)).key,
    ).toBe('ENCLAVE_OIDC_ROLE_MAP');
    const issuer = { ...SSO, ENCLAVE_OIDC_ISSUER: 'http://idp.example.com' };
    expect(errorOf(() => loadConfig(issuer, NO_FILE)).message).toContain('loopback');
    const loopback = { ...SSO, ENCLAVE_OIDC_ISSUER: 'http://127.0.0.1:9999' };
    expect(loadConfig(loopback, NO_FILE).auth.oidc?.issuer).toBe('http://127.0.0.1:9999');
  });

  it('refuses a public URL with a path', () => {
    const err = errorOf(() =>
      loadConfig({ ...SSO, ENCLAVE_PUBLIC_URL: 'https://enclave.example.com/chat' }, NO_FILE),
    );
    expect(err.key).toBe('ENCLAVE_PUBLIC_URL');
  });

  it('refuses turning local login off without SSO, since nobody could sign in', () => {
    const err = errorOf(() => loadConfig({ ENCLAVE_LOCAL_LOGIN: 'false' }, NO_FILE));
    expect(err.key).toBe('ENCLAVE_LOCAL_LOGIN');
    expect(loadConfig({ ...SSO, ENCLAVE_LOCAL_LOGIN: 'false' }, NO_FILE).auth.localLogin).toBe(
      false,
    );
  });
});
