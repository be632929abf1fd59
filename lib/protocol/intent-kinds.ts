/**
 * Registry of intent kinds (docs/protocol.md §Intent kinds). A kind names what the agent wants to do; the
 * payload schema for each lives in `wire.ts`. Like format ids, a kind is never reused with a new meaning: a
 * changed payload gets a new kind name.
 */
export type Risk = 'low' | 'medium' | 'high';
export const RISKS = ['low', 'medium', 'high'] as const;

export interface IntentKindInfo {
  /**
   * The lowest risk the device ever shows for this kind, decided here and not by the agent: `action.approve` carries
   * the agent's own `risk` claim, which can raise it but never lower it (issue 13 item 7).
   */
  readonly riskFloor: Risk;
  /** Whether a fresh installation's policy requires a human decision before the intent may run. */
  readonly approvalRequiredByDefault: boolean;
  /** One line for the approval UI. */
  readonly description: string;
}

export const INTENT_KINDS = {
  // Releasing a secret always needs the human's device: only it can open the vault and seal the secret to the
  // agent, so there is nothing the hub could auto-approve.
  'secret.request': { riskFloor: 'medium', approvalRequiredByDefault: true, description: 'Read one vault secret' },
  // An HTTPS call the person's browser makes with vault secrets put in (issue 18): only the device holds them.
  'http.request': {
    riskFloor: 'medium',
    approvalRequiredByDefault: true,
    description: 'Make an HTTPS call with your secrets',
  },
  'action.approve': {
    riskFloor: 'medium',
    approvalRequiredByDefault: true,
    description: 'Approve an action the agent describes',
  },
  'payment.send': { riskFloor: 'high', approvalRequiredByDefault: true, description: 'Send a payment' },
  'shell.exec': { riskFloor: 'high', approvalRequiredByDefault: true, description: 'Run a shell command' },
  'message.send': { riskFloor: 'high', approvalRequiredByDefault: true, description: 'Send a message on your behalf' },
} as const satisfies Record<string, IntentKindInfo>;

export type IntentKind = keyof typeof INTENT_KINDS;
export const INTENT_KIND_NAMES = Object.keys(INTENT_KINDS) as IntentKind[];

export const isIntentKind = (v: unknown): v is IntentKind =>
  typeof v === 'string' && Object.prototype.hasOwnProperty.call(INTENT_KINDS, v);

/**
 * Kinds only the person's device can carry out (it holds the secrets), so the hub never lets one run without the
 * device's signed decision, whatever the installation's policy says.
 */
export const DEVICE_ONLY_KINDS: readonly string[] = ['secret.request', 'http.request'];
export const needsDevice = (kind: string): boolean => DEVICE_ONLY_KINDS.includes(kind);

/** Kinds a new installation requires approval for, sorted (the default `policy.approval_required`). */
export function defaultApprovalRequired(): IntentKind[] {
  return INTENT_KIND_NAMES.filter((k) => INTENT_KINDS[k].approvalRequiredByDefault).sort();
}

const RANK: Record<Risk, number> = { low: 0, medium: 1, high: 2 };

/** The higher of two risks. */
export const maxRisk = (a: Risk, b: Risk): Risk => (RANK[b] > RANK[a] ? b : a);

/**
 * Risk shown for an intent: the kind's floor, raised (never lowered) by the agent's own claim where the kind has one
 * (`action.approve`'s payload `risk`). Everything that depends on risk (the high-risk confirmation, styling) uses it.
 */
export function intentRisk(kind: IntentKind, payload: unknown): Risk {
  const floor = INTENT_KINDS[kind].riskFloor;
  if (kind === 'action.approve' && payload && typeof payload === 'object') {
    const claimed = (payload as { risk?: unknown }).risk;
    if (typeof claimed === 'string' && (RISKS as readonly string[]).includes(claimed))
      return maxRisk(floor, claimed as Risk);
  }
  return floor;
}
