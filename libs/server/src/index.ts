export { PlatformModule } from './platform.module.js';
export {
  configureHttpApp,
  installGracefulShutdown,
  runHttpApp,
  type HttpAppSpec,
} from './http-app.js';
