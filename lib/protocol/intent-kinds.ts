/**
 * Registry of intent kinds (docs/protocol.md §Intent kinds). A kind names what the agent wants to do; the
 * payload schema for each lives in `wire.ts`. Like format ids, a kind is never reused with a new meaning: a
 * changed payload gets a new kind name.
 */
export type Risk = 'low' | 'medium' | 'high';
export const RISKS = ['low', 'medium', 'high'] as const;

export interface IntentKindInfo {
  /** Risk shown to the human; `action.approve` carries its own `risk` in the payload instead. */
  readonly defaultRisk: Risk;
  /** Whether a fresh installation's policy requires a human decision before the intent may run. */
  readonly approvalRequiredByDefault: boolean;
  /** One line for the approval UI. */
  readonly description: string;
}

export const INTENT_KINDS = {
  // Releasing a secret always needs the human's device: only it can open the vault and seal the secret to the
  // agent, so there is nothing the hub could auto-approve.
  'secret.request': { defaultRisk: 'medium', approvalRequiredByDefault: true, description: 'Read one vault secret' },
  'action.approve': { defaultRisk: 'medium', approvalRequiredByDefault: true, description: 'Approve an action the agent describes' },
  'payment.send': { defaultRisk: 'high', approvalRequiredByDefault: true, description: 'Send a payment' },
  'shell.exec': { defaultRisk: 'high', approvalRequiredByDefault: true, description: 'Run a shell command' },
  'message.send': { defaultRisk: 'high', approvalRequiredByDefault: true, description: 'Send a message on your behalf' },
} as const satisfies Record<string, IntentKindInfo>;

export type IntentKind = keyof typeof INTENT_KINDS;
export const INTENT_KIND_NAMES = Object.keys(INTENT_KINDS) as IntentKind[];

export const isIntentKind = (v: unknown): v is IntentKind =>
  typeof v === 'string' && Object.prototype.hasOwnProperty.call(INTENT_KINDS, v);

/** Kinds a new installation requires approval for, sorted (the default `policy.approval_required`). */
export function defaultApprovalRequired(): IntentKind[] {
  return INTENT_KIND_NAMES.filter((k) => INTENT_KINDS[k].approvalRequiredByDefault).sort();
}

/** Risk shown for an intent: the payload's own `risk` for `action.approve`, else the kind's default. */
export function intentRisk(kind: IntentKind, payload: unknown): Risk {
  if (kind === 'action.approve' && payload && typeof payload === 'object') {
    const risk = (payload as { risk?: unknown }).risk;
    if (typeof risk === 'string' && (RISKS as readonly string[]).includes(risk)) return risk as Risk;
  }
  return INTENT_KINDS[kind].defaultRisk;
}
