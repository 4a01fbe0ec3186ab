import { type Config, loadConfig } from '@enclave/config';

/**
 * A config built from defaults plus the given keys, ignoring any env file on this machine.
 * Tests record every refusal on its own and do not rate-limit anonymous traffic (they send
 * plenty of it from one address); the tests of those two features turn them on.
 */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig(
    {
      LOG_LEVEL: 'silent',
      AUDIT_DENIAL_WINDOW_SECONDS: '0',
      ENCLAVE_ANONYMOUS_RATE_PER_MINUTE: '0',
      ...env,
    },
    '/nonexistent/enclave.env',
  );
}
