// The reference verifier, @phala/dcap-qvl 0.3.9 (CommonJS), in either of its two code paths, in this Node process.
// It picks its path once, when src/crypto-compat.js is first loaded: pure JS (its own X.509 shim, elliptic,
// hash.js) when `window` exists or crypto.X509Certificate is absent (any browser / Web Worker bundle), Node's
// crypto otherwise. A second copy of its sources is loaded with `window` defined to get the pure-JS path.
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const PACKAGE_SRC = `${path.sep}@phala${path.sep}dcap-qvl${path.sep}src${path.sep}`;

/** mode: 'node' | 'pure-js'. Returns the package's exports; `isBrowser` tells which path it took. */
export function loadDcapQvl(mode) {
  for (const key of Object.keys(require.cache)) if (key.includes(PACKAGE_SRC)) delete require.cache[key];
  if (mode === 'pure-js') globalThis.window = {};
  try {
    const mod = require('@phala/dcap-qvl');
    if (mod.isBrowser !== (mode === 'pure-js')) throw new Error(`@phala/dcap-qvl did not take its ${mode} path`);
    return mod;
  } finally {
    if (mode === 'pure-js') delete globalThis.window;
  }
}
