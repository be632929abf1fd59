import type { HttpMethod } from '../protocol/http-request';
import { openResponseDelivery, type HttpOutcome, type ResponseContext } from '../protocol/sealed-response';
import { AgentError } from './errors';

/**
 * The agent's half of issue 18 ("use a secret without handing it over"): what it asks the person's browser to call,
 * and how it reads what comes back. The browser puts the vault secrets in where `{{secret:NAME}}` placeholders stand,
 * makes the call, and returns the outcome sealed to this agent (CKHR) under a statement its device signed (CKRS,
 * lib/protocol/sealed-response.ts). The agent never sees a secret's value.
 */

/** One call, as the agent writes it (lib/protocol/http-request.ts says what each field may hold). */
export interface HttpRequestInput {
  method: HttpMethod;
  /** An https URL in its normal form; `{{secret:NAME}}` only inside a query parameter's value. */
  url: string;
  /** `[name, value]` pairs; names are lower-cased here, values may hold `{{secret:NAME}}`. */
  headers?: readonly (readonly [string, string])[];
  /** Text (placeholders allowed) or bytes as standard base64; not with GET or HEAD. */
  body?: { text: string } | { base64: string };
  /** Shown to the person on the card, as the agent's words. */
  reason?: string;
}

export type HttpResponseOutcome = Extract<HttpOutcome, { outcome: 'response' }>;
/** The device made the call and no answer came (timeout, too large, network): its code and words. */
export interface HttpFailedOutcome {
  outcome: 'failed';
  code: string;
  message: string;
}

/** RFC 9110 §5.1: field names are case-insensitive; the payload spells them in lower case, ASCII only. */
const lowerAscii = (name: string): string => name.replace(/[A-Z]/g, (c) => c.toLowerCase());

/**
 * The `http.request` payload for `input`: only the fields given (the payload hash covers exactly what is sent, so an
 * empty list or reason is left out rather than sent as a value the card would show). Checked by createIntent.
 */
export function httpRequestPayload(input: HttpRequestInput): Record<string, unknown> {
  const payload: Record<string, unknown> = { method: input.method, url: input.url };
  if (input.headers && input.headers.length > 0)
    payload.headers = input.headers.map(([name, value]) => [lowerAscii(name), value]);
  if (input.body !== undefined)
    payload.body = 'text' in input.body ? { text: input.body.text } : { base64: input.body.base64 };
  if (input.reason) payload.reason = input.reason;
  return payload;
}

/**
 * Verifies a delivery under each key the agent trusts (the pinned device first, then the devices it vouched for) and
 * opens the outcome for exactly `context`. The hub holds the agent's box key, so it could seal an outcome of its own
 * choosing; only the device's signature over this intent, payload and box tells the two apart.
 * @throws AgentError `sealed_untrusted` whatever failed (missing, another signer, changed bytes, another context).
 */
export function openTrustedDelivery(
  signers: readonly Uint8Array[],
  boxPrivate: Uint8Array,
  delivery: unknown,
  context: ResponseContext,
): HttpOutcome {
  if (delivery === undefined || delivery === null)
    throw new AgentError('sealed_untrusted', "The hub sent no response from your human's device for this call.");
  let cause: unknown;
  for (const key of signers) {
    try {
      return openResponseDelivery(key, boxPrivate, delivery, context).outcome;
    } catch (err) {
      cause = err;
    }
  }
  throw new AgentError(
    'sealed_untrusted',
    'The response to this call is not one the pinned device (or a device it added) signed for this hub, intent, installation and payload, or it does not open for this agent.',
    { cause },
  );
}

/** The device's refusal as the error the agent sees: its own words and its own code, nothing added. */
export const refusedError = (outcome: { code: string; message: string }): AgentError =>
  new AgentError('http_refused', outcome.message, { deviceCode: outcome.code });
