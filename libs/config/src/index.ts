export { KEYS, type ConfigKey, type KeySpec } from './keys.js';
export {
  loadConfig,
  loadConfigOrExit,
  ConfigError,
  DEFAULT_CONFIG_FILE,
  type Config,
  type OidcConfig,
} from './load.js';
export { ConfigModule, ENCLAVE_CONFIG, InjectConfig } from './config.module.js';
