import 'reflect-metadata';
import { runHttpApp } from '@enclave/server';
import { AuditAppModule } from './audit.module.js';

await runHttpApp({
  name: 'audit',
  module: (config) => AuditAppModule.forRoot(config),
  port: (config) => config.ports.audit,
});
