import { defineConfig } from 'wxt';
import preact from '@preact/preset-vite';

// Extension pages may compile WebAssembly (hash-wasm's Argon2id) and nothing looser.
const EXTENSION_PAGES_CSP = "script-src 'self' 'wasm-unsafe-eval'; object-src 'self';";

export default defineConfig({
  imports: false,
  vite: () => ({
    plugins: [preact()],
    // Builds for users never honour a test trust anchor in the TDX verifier (lib/attest/trust-anchor.ts).
    define: { __CLAWKEEP_TEST_ANCHORS__: 'false' },
  }),
  manifest: ({ browser, manifestVersion }) => ({
    name: 'Clawkeep',
    description: 'Approve what your AI agents do, keep their secrets encrypted, verify the TEEs they run in.',
    // notifications: the opt-in "Show a system notification" for new approval requests (agent name + kind only).
    permissions: ['storage', 'alarms', 'notifications'],
    // A local approvals hub (clawkeep hub listens on loopback): the background fetches it without CORS.
    host_permissions: ['http://127.0.0.1/*', 'http://localhost/*'],
    // A PCCS for TDX collateral (Phala's, Intel's PCS, or the user's own): requested for that one origin when the
    // user chooses "Fetch from a PCCS", never at install time.
    ...(manifestVersion === 3 ? { optional_host_permissions: ['https://*/*'] } : { optional_permissions: ['https://*/*'] }),
    action: { default_title: 'Clawkeep' },
    content_security_policy:
      manifestVersion === 3 ? { extension_pages: EXTENSION_PAGES_CSP } : EXTENSION_PAGES_CSP,
    ...(browser === 'firefox' && {
      browser_specific_settings: {
        gecko: {
          id: 'clawkeep@clawkeep.dev',
          strict_min_version: '142.0',
          data_collection_permissions: { required: ['none'] },
        },
      },
    }),
  }),
});
