// Reading GET /v1/events for the load harness without depending on one event format: today an `intents` event
// carries the account's whole pending list; issue 16 changes it to "what changed". An event is read for intent
// objects (anything with a string intent_id) wherever they are in its JSON; when it names intents without the
// fields a decision needs, or says nothing recognisable, the caller asks GET /v1/intents?status=pending instead
// (through HubClient.pendingIntents, which follows the protocol as it changes).

/** Fields a device needs to sign a decision (lib/protocol/approval.ts ApprovalStatement). */
const DECIDABLE = ['intent_id', 'payload_hash', 'installation_id', 'agent_nonce', 'status'];

/**
 * The intent objects in an event's data: `{ intents, complete }`. `complete` is false when the caller should read
 * the pending list itself (unparseable data, intents named without their fields, or nothing recognisable).
 */
export function intentsInEvent(data) {
  let value;
  try {
    value = JSON.parse(data);
  } catch {
    return { intents: [], ids: [], complete: false };
  }
  const intents = [];
  const ids = [];
  let partial = false;
  const walk = (v, depth) => {
    if (depth > 4 || v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) {
      for (const x of v) walk(x, depth + 1);
      return;
    }
    if (typeof v.intent_id === 'string') {
      ids.push(v.intent_id);
      if (DECIDABLE.every((k) => typeof v[k] === 'string')) intents.push(v);
      else partial = true;
      return;
    }
    for (const x of Object.values(v)) walk(x, depth + 1);
  };
  walk(value, 0);
  // `{ intents: [] }` is a complete (empty) list; an event with no intent objects in any other shape is not.
  const emptyList = Array.isArray(value?.intents) && value.intents.length === 0;
  return { intents, ids, complete: !partial && (intents.length > 0 || emptyList) };
}
