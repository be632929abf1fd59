import * as v from 'valibot';
import { INTENT_KINDS, intentRisk, isIntentKind, type Risk } from '../protocol/intent-kinds';
import {
  ActionApprovePayloadSchema,
  MessageSendPayloadSchema,
  PaymentSendPayloadSchema,
  SecretRequestPayloadSchema,
  ShellExecPayloadSchema,
} from '../protocol/wire';

/** What the approval screen says about one intent, computed on the device from kind + payload only. */
export interface IntentSummary {
  /** "Asks for": what kind of thing, in words. */
  asks: string;
  /** The one line that matters, e.g. "the secret arxiv-key". */
  headline: string;
  /** Further labelled facts, in display order. */
  details: { label: string; value: string }[];
  /** Risk from the local registry (never lower than the hub's claim, see displayRisk). */
  risk: Risk;
  /** False when the payload does not match its kind's schema: only Deny should be offered. */
  valid: boolean;
}

const SCHEMAS = {
  'secret.request': SecretRequestPayloadSchema,
  'action.approve': ActionApprovePayloadSchema,
  'payment.send': PaymentSendPayloadSchema,
  'shell.exec': ShellExecPayloadSchema,
  'message.send': MessageSendPayloadSchema,
} as const;

/** Minor units to a display amount in the currency's own decimals, e.g. (1999, 'EUR') → "EUR 19.99". */
export function formatAmount(amountMinor: number, currency: string): string {
  let digits = 2;
  try {
    digits = new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ?? 2;
  } catch {
    // unknown currency code: assume cents
  }
  const negative = amountMinor < 0;
  const abs = String(Math.abs(amountMinor)).padStart(digits + 1, '0');
  const whole = digits ? abs.slice(0, -digits) : abs;
  const frac = digits ? `.${abs.slice(-digits)}` : '';
  return `${currency} ${negative ? '-' : ''}${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}${frac}`;
}

const RANK: Record<Risk, number> = { low: 0, medium: 1, high: 2 };
/** The higher of the device's own risk and what the hub says: the hub may warn more, never less. */
export function displayRisk(local: Risk, hub: unknown): Risk {
  return typeof hub === 'string' && hub in RANK && RANK[hub as Risk] > RANK[local] ? (hub as Risk) : local;
}

export function summarizeIntent(kind: string, payload: unknown): IntentSummary {
  if (!isIntentKind(kind)) {
    const summary = (payload as { summary?: unknown } | null)?.summary;
    return {
      asks: `Unknown request kind "${kind}"`,
      headline: typeof summary === 'string' ? summary : 'This Clawkeep version does not know this kind of request.',
      details: [],
      risk: 'high',
      valid: false,
    };
  }
  const risk = intentRisk(kind, payload);
  const asks = INTENT_KINDS[kind].description;
  const parsed = v.safeParse(SCHEMAS[kind], payload);
  if (!parsed.success) return { asks, headline: 'The request is malformed.', details: [], risk: 'high', valid: false };
  switch (kind) {
    case 'secret.request': {
      const p = parsed.output as v.InferOutput<typeof SecretRequestPayloadSchema>;
      return { asks, headline: `the secret ${p.item}`, details: [{ label: 'Reason', value: p.reason }], risk, valid: true };
    }
    case 'action.approve': {
      const p = parsed.output as v.InferOutput<typeof ActionApprovePayloadSchema>;
      return { asks, headline: p.summary, details: [], risk, valid: true };
    }
    case 'payment.send': {
      const p = parsed.output as v.InferOutput<typeof PaymentSendPayloadSchema>;
      const details = [
        { label: 'Amount', value: formatAmount(p.amount_minor, p.currency) },
        { label: 'Payee', value: p.payee },
      ];
      if (p.memo) details.push({ label: 'Memo', value: p.memo });
      return { asks, headline: p.summary, details, risk, valid: true };
    }
    case 'shell.exec': {
      const p = parsed.output as v.InferOutput<typeof ShellExecPayloadSchema>;
      const details = [{ label: 'Command', value: p.command }];
      if (p.cwd) details.push({ label: 'Working directory', value: p.cwd });
      return { asks, headline: p.summary, details, risk, valid: true };
    }
    case 'message.send': {
      const p = parsed.output as v.InferOutput<typeof MessageSendPayloadSchema>;
      return {
        asks,
        headline: p.summary,
        details: [
          { label: 'Channel', value: p.channel },
          { label: 'To', value: p.to },
          { label: 'Message', value: p.body },
        ],
        risk,
        valid: true,
      };
    }
  }
}
