// The extension's own config with minification off, source maps on and its own output folder (.output/profile): a
// build whose CPU profiles name functions and their source files (bench/vault-list-profile.mjs). Same code as the shipped build; never zipped or shipped.
import type { UserConfig } from 'wxt';
import config from '../wxt.config';

const base = config as UserConfig & { vite: NonNullable<UserConfig['vite']> };

export default {
  ...base,
  root: new URL('..', import.meta.url).pathname,
  outDir: '.output/profile',
  vite: (env) => {
    const v = base.vite(env) as Record<string, unknown>;
    return { ...v, build: { ...(v.build as object), minify: false, sourcemap: true } };
  },
} satisfies UserConfig;
