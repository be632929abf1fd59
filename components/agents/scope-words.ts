import { INTENT_KINDS, isIntentKind } from '../../lib/protocol/intent-kinds';
import { parseScope } from '../../lib/protocol/scopes';

/**
 * A scope in words, for the claim preview and the installations list (issue 15: "scope ids are shown with words").
 * The raw id stays next to it on screen: the words explain, the id is what the signed claim grants
 * (docs/protocol.md §Scopes).
 */
export function describeScope(scope: string): string {
  const parsed = parseScope(scope);
  if (!parsed) return `Unknown scope (not granted by this version)`;
  if (parsed.type === 'secret') return `Read the secret “${parsed.item}”`;
  if (parsed.type === 'http') return `Ask you to make HTTPS calls to ${parsed.host} with secrets that allow that host`;
  if (isIntentKind(parsed.kind)) return `Ask you to approve: ${lowerFirst(INTENT_KINDS[parsed.kind].description)}`;
  return `Ask you to approve “${parsed.kind}” requests`;
}

const lowerFirst = (s: string): string => s.charAt(0).toLowerCase() + s.slice(1);
