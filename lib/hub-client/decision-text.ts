import type { IntentKind } from '../protocol/intent-kinds';
import { isIntentKind } from '../protocol/intent-kinds';

/** What the person chose on an approval card. */
export type CardOutcome = 'approve' | 'always' | 'deny';

/** What a card showed about one request: the sentence is built from this, never from text the hub sends. */
export interface DecidedRequest {
  agentName: string;
  kind: string;
  payload: unknown;
  /** Whether the device's own summary found the payload valid (its fields are then display-safe). */
  valid: boolean;
}

/** The longest quoted name or summary in a confirmation: it is one short line, the card showed the rest. */
export const QUOTE_CHARS = 80;

/** How each kind's request is named after "Approved research-bot's …" (a new kind without a noun fails tsc). */
const NOUNS: Record<IntentKind, string> = {
  'secret.request': 'request',
  'http.request': 'call',
  'action.approve': 'action',
  'payment.send': 'payment',
  'shell.exec': 'command',
  'message.send': 'message',
};

/** “text”, cut to QUOTE_CHARS characters (code points, so a cut never splits a character) with an ellipsis. */
export function quoted(text: string): string {
  const chars = [...text.replace(/\s+/g, ' ').trim()];
  return `“${chars.length > QUOTE_CHARS ? `${chars.slice(0, QUOTE_CHARS - 1).join('')}…` : chars.join('')}”`;
}

function field(payload: unknown, name: string): string | null {
  const value = (payload as Record<string, unknown> | null)?.[name];
  return typeof value === 'string' && value !== '' ? value : null;
}

/**
 * The short confirmation shown after a decision (issue 15: "Sent “GitHub token” to research-bot"), from what the card
 * showed: the agent's name as this device knows it, and the secret's name or the request's own summary. An invalid
 * payload (only Deny was offered) is named only as "request": its fields were not shown as trusted text.
 */
export function decisionSentence(request: DecidedRequest, outcome: CardOutcome): string {
  const agent = request.agentName;
  const kind = isIntentKind(request.kind) && request.valid ? request.kind : null;
  if (kind === 'secret.request') {
    const item = quoted(field(request.payload, 'item') ?? '');
    if (outcome === 'deny') return `Denied ${agent}'s request for ${item}. Nothing was sent.`;
    const sent = `Sent ${item} to ${agent}.`;
    return outcome === 'always' ? `${sent} It won't need to ask again for this.` : sent;
  }
  if (kind === 'http.request') {
    const call = `${field(request.payload, 'method') ?? ''} ${field(request.payload, 'url')?.split('?', 1)[0] ?? ''}`;
    if (outcome === 'deny') return `Denied ${agent}'s call ${quoted(call)}. Nothing was sent.`;
    const made = `Made ${agent}'s call ${quoted(call)}; the answer was sealed to it.`;
    return outcome === 'always' ? `${made} Matching calls are made without asking, within the rule's limit.` : made;
  }
  const summary = kind ? field(request.payload, 'summary') : null;
  const what = `${agent}'s ${kind ? NOUNS[kind] : 'request'}${summary ? ` ${quoted(summary)}` : ''}`;
  return outcome === 'deny' ? `Denied ${what}.` : `Approved ${what}.`;
}

/** The confirmation after "Deny all from this agent": how many of its requests this device had waiting. */
export function denyAllSentence(agentName: string, count: number): string {
  return count === 1
    ? `Denied ${agentName}'s request.`
    : `Denied all ${count > 0 ? `${count} ` : ''}requests from ${agentName}.`;
}
