import 'reflect-metadata';
import { runHttpApp } from '@enclave/server';
import { AdminAppModule } from './admin.module.js';

await runHttpApp({
  name: 'admin',
  module: (config) => AdminAppModule.forRoot(config),
  port: (config) => config.ports.admin,
});
