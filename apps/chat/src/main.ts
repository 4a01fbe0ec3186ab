import 'reflect-metadata';
import { runHttpApp } from '@enclave/server';
import { ChatAppModule } from './chat.module.js';

await runHttpApp({
  name: 'chat',
  module: (config) => ChatAppModule.forRoot(config),
  port: (config) => config.ports.chat,
});
