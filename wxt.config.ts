import { defineConfig } from 'wxt';
import preact from '@preact/preset-vite';

// Extension pages may compile WebAssembly (our Argon2id, lib/crypto/argon2) and nothing looser.
const EXTENSION_PAGES_CSP = "script-src 'self' 'wasm-unsafe-eval'; object-src 'self';";

// `wxt build --mode test` (→ .output/chrome-mv3-test) is the one build whose verifier honours a test trust anchor:
// the deploy e2e tests load it against the CVM simulator, whose quotes chain to the simulator's own test root.
// It is never zipped or shipped; every other mode (production, development) is a build for users.
const isTestBuild = (mode: string): boolean => mode === 'test';

export default defineConfig({
  imports: false,
  vite: ({ mode }) => ({
    plugins: [preact()],
    // Builds for users never honour a test trust anchor in the TDX verifier (lib/attest/trust-anchor.ts).
    define: { __CLAWKEEP_TEST_ANCHORS__: isTestBuild(mode) ? 'true' : 'false' },
  }),
  manifest: ({ browser, manifestVersion, mode }) => ({
    name: isTestBuild(mode) ? 'Clawkeep (TEST BUILD: trusts test roots)' : 'Clawkeep',
    description: 'Approve what your AI agents do, keep their secrets encrypted, verify the TEEs they run in.',
    // notifications: the opt-in "Show a system notification" for new approval requests (agent name + kind only).
    permissions: ['storage', 'alarms', 'notifications'],
    // A hub on this machine (`npm start`, `clawkeep hub` on 127.0.0.1): granted at install, so a local hub works
    // without a prompt. The background fetches it without CORS.
    host_permissions: ['http://127.0.0.1/*', 'http://localhost/*'],
    // Optional, asked for one origin at a time, never at install: a hub on another machine (its https public
    // origin, asked when its URL is saved or a pairing starts there: lib/ext/hub/host-access.ts, docs/deployment.md),
    // a PCCS for TDX collateral (Phala's, Intel's PCS, or the user's own: when the user chooses "Fetch from a PCCS"),
    // and a provider API (Phala Cloud) before its first call.
    ...(manifestVersion === 3
      ? { optional_host_permissions: ['https://*/*'] }
      : { optional_permissions: ['https://*/*'] }),
    action: { default_title: 'Clawkeep' },
    // A keyboard shortcut opens the popup (issue 15). Alt+Shift+K ("K" for keep): free in Chrome and Firefox by
    // default, unlike Ctrl+Shift+K (Firefox's web console) or Ctrl+Shift+L / Y (other password managers). The
    // person can change it; Settings shows what the browser actually assigned (lib/ext/shortcut.ts).
    commands: {
      [manifestVersion === 3 ? '_execute_action' : '_execute_browser_action']: {
        suggested_key: { default: 'Alt+Shift+K' },
        description: 'Open the Clawkeep popup',
      },
    },
    content_security_policy: manifestVersion === 3 ? { extension_pages: EXTENSION_PAGES_CSP } : EXTENSION_PAGES_CSP,
    // Cross-origin isolation for the extension's pages (Chrome 93+ manifest keys): it is what makes SharedArrayBuffer
    // available, so the KDF worker can fill Argon2id's lanes on parallel lane workers sharing one WebAssembly memory
    // (lib/crypto/argon2). The pages load only the extension's own files and talk to the background by messages, so
    // require-corp blocks nothing; the hub is fetched by the background with CORS-mode fetch, which COEP allows.
    // Firefox does not read these keys: there the KDF runs on the single path (same bytes).
    ...(browser !== 'firefox' && {
      cross_origin_embedder_policy: { value: 'require-corp' },
      cross_origin_opener_policy: { value: 'same-origin' },
    }),
    ...(browser === 'firefox' && {
      browser_specific_settings: {
        gecko: {
          id: 'clawkeep@clawkeep.dev',
          // 140: the current Firefox ESR (Debian ships 140.x) and the first desktop Firefox that reads
          // data_collection_permissions.
          strict_min_version: '140.0',
          data_collection_permissions: { required: ['none'] },
        },
        // Firefox for Android reads data_collection_permissions from 142.
        gecko_android: { strict_min_version: '142.0' },
      },
    }),
  }),
});
