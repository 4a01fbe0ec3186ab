import { type Config, loadConfig } from '@enclave/config';

/** A config built from defaults plus the given keys, ignoring any env file on this machine. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ LOG_LEVEL: 'silent', ...env }, '/nonexistent/enclave.env');
}
