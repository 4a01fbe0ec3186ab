import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The admin console, built into dist/apps/admin/web and served by the admin app at `/admin`.
// Same toolchain as the chat UI (apps/chat/web): Vite's own JSX transform, no React plugin.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/admin/',
  // The browser code both web UIs share (libs/web): `@enclave/web` and `@enclave/web/base.css`;
  // and the API's request and response schemas (libs/contracts), the same ones the server uses.
  resolve: {
    alias: {
      '@enclave/web': fileURLToPath(new URL('../../../libs/web/src', import.meta.url)),
      '@enclave/contracts': fileURLToPath(
        new URL('../../../libs/contracts/src/index.ts', import.meta.url),
      ),
    },
  },
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: fileURLToPath(new URL('../../../dist/apps/admin/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
  },
  // `npx vite --config apps/admin/web/vite.config.ts` next to `npm start`: the API is the admin app's.
  server: {
    proxy: { '/api': 'http://127.0.0.1:8081' },
  },
});
