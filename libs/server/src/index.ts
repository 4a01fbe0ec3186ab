export { PlatformModule } from './platform.module.js';
export {
  configureHttpApp,
  createHttpAdapter,
  installGracefulShutdown,
  runHttpApp,
  type HttpAppSpec,
} from './http-app.js';
export { SystemdNotifier, type WatchdogStatus } from './systemd-notify.js';
export { SpaModule } from './spa/spa.module.js';
export type { SpaOptions } from './spa/spa-assets.js';
