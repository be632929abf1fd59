import { defineWebExtConfig } from 'wxt';

// `wxt dev` must not try to launch a browser here (no display, no download).
export default defineWebExtConfig({ disabled: true });
