// Builds the console (React SPA) into dist/console, served by apps/gateway on the system's one origin.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: 'public',
  // JSX with React's automatic runtime, compiled by Vite's own transformer (no React plugin needed for a
  // production build; fast refresh is a development nicety this project does not use).
  oxc: { jsx: { runtime: 'automatic', importSource: 'react' } },
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    manifest: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 600,
    rolldownOptions: {
      // React Query marks its modules "use client" for server components; meaningless in a SPA bundle.
      onwarn(warning, warn) {
        if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
        warn(warning);
      },
    },
  },
  server: {
    // `npx vite --config apps/console/vite.config.mts` for UI work: the APIs through the gateway.
    proxy: { '/api': 'http://127.0.0.1:3000', '/public': 'http://127.0.0.1:3000' },
  },
});
