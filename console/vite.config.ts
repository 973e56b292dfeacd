// The web console's build: Preact through Vite's own JSX transform (no framework plugin), every
// script and style bundled into hashed files under /console/assets (the server's CSP allows no
// inline script and no other origin), nothing fetched from a CDN at run time.
import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  base: '/console/',
  publicDir: 'public',
  logLevel: 'warn',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    // No inline modulepreload polyfill or data: URLs for assets: everything is a file from 'self'.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    sourcemap: false,
    reportCompressedSize: false,
  },
});
