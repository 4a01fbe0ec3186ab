import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// The chat UI, built into dist/apps/chat/web and served by the chat app at `/`. No React plugin:
// Vite's own transform compiles the JSX (automatic runtime); there is no fast refresh in dev.
export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/',
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
    outDir: fileURLToPath(new URL('../../../dist/apps/chat/web', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    // One bundle of about 0.9 MB (KaTeX and highlight.js's common languages are most of it),
    // served once from the LAN and then cached for good (hashed names): no split is worth it.
    chunkSizeWarningLimit: 1200,
  },
  // `npx vite --config apps/chat/web/vite.config.ts` next to `npm start`: the API is the chat app's.
  server: {
    proxy: {
      '/api': 'http://127.0.0.1:8080',
      '/v1': 'http://127.0.0.1:8080',
    },
  },
});
