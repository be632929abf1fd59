/**
 * Which gateway addresses the operator client may open. The connection carries the gateway token, the device
 * proof and every approval decision: over plain `ws://` anyone on the network path reads and rewrites them, so
 * `ws://` is allowed only to this machine (loopback), and every other gateway needs `wss://` (issue 13 item 14).
 */
import { OpenClawError } from './errors';

/** 127.0.0.0/8, ::1 and `localhost` (the WHATWG URL parser already folds 127.1, 2130706433, … to dotted form). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost') return true;
  if (host === '[::1]' || host === '::1') return true;
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return !!m && Number(m[1]) === 127 && m.slice(2).every((p) => Number(p) <= 255);
}

/**
 * Parses a gateway address and refuses what must not be opened: not ws:/wss:, or `ws://` to a host that is not
 * loopback. Throws `OpenClawError('config_invalid')` for a malformed address and
 * `OpenClawError('gateway_insecure')` for plain ws:// off this machine.
 */
export function checkGatewayUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new OpenClawError('config_invalid', 'The gateway address is not a URL (e.g. ws://127.0.0.1:18789).');
  }
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:')
    throw new OpenClawError('config_invalid', 'The gateway address must start with ws:// or wss://.');
  if (url.protocol === 'ws:' && !isLoopbackHost(url.hostname)) {
    throw new OpenClawError(
      'gateway_insecure',
      `ws:// is unencrypted: use wss:// for a gateway on another machine (${url.hostname}). Plain ws:// is allowed only to this computer (127.0.0.1, ::1, localhost).`,
    );
  }
  return url;
}
