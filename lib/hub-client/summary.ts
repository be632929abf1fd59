import * as v from 'valibot';
import { hiddenCharacter, isDisplaySafe } from '../protocol/display-text';
import { parseHttpRequest } from '../protocol/http-request';
import { INTENT_KINDS, intentRisk, isIntentKind, type Risk } from '../protocol/intent-kinds';
import {
  ActionApprovePayloadSchema,
  HttpRequestPayloadSchema,
  MessageSendPayloadSchema,
  PaymentSendPayloadSchema,
  SecretRequestPayloadSchema,
  ShellExecPayloadSchema,
} from '../protocol/wire';

/** One labelled fact on the approval card: a payload field (or a nested value of action details) as signed. */
export interface SummaryRow {
  /** The payload path it shows, e.g. "command", "details.pr.number", "details.files[0]". */
  field: string;
  label: string;
  value: string;
  /** Commands and paths: shown in a monospace font. */
  mono?: boolean;
}

/** What the approval screen says about one intent, computed on the device from kind + payload only. */
export interface IntentSummary {
  /** "Asks for": what kind of thing, in words. */
  asks: string;
  /** The one line that matters, e.g. "the secret arxiv-key". */
  headline: string;
  /** Every other signed payload field, in display order (action details flattened to one row per value). */
  details: SummaryRow[];
  /** The top-level payload fields the card shows (headline and rows): all of them for a valid payload. */
  fields: string[];
  /** The kind's floor raised by the agent's claim (intent-kinds.ts intentRisk); high when invalid. */
  risk: Risk;
  /** False when the payload does not match its kind's schema: only Deny should be offered. */
  valid: boolean;
  /** Why it is not valid, in words (e.g. a hidden character and where), or null. */
  problem: string | null;
}

const SCHEMAS = {
  'secret.request': SecretRequestPayloadSchema,
  'http.request': HttpRequestPayloadSchema,
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

const PLAIN_KEY = /^[A-Za-z0-9_-]+$/;

/** Flattens a JSON value to one row per leaf: "details.pr.number", "details.files[0]"; odd keys are quoted. */
export function jsonRows(value: unknown, path: string, out: SummaryRow[] = []): SummaryRow[] {
  if (value !== null && typeof value === 'object') {
    const entries: [string, unknown][] = Array.isArray(value)
      ? value.map((x, i) => [`${path}[${i}]`, x])
      : Object.entries(value).map(([k, x]) => [
          PLAIN_KEY.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`,
          x,
        ]);
    if (entries.length === 0) out.push({ field: path, label: path, value: Array.isArray(value) ? '[]' : '{}' });
    for (const [p, x] of entries) jsonRows(x, p, out);
    return out;
  }
  out.push({
    field: path,
    label: path,
    value: typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value)),
  });
  return out;
}

/** How much of a value shows before "continues", and how long it is. */
export interface ValueShape {
  chars: number;
  lines: number;
  /** What is shown collapsed: the first `maxLines` lines, at most `maxChars` characters. */
  head: string;
  /** True when `head` is not the whole value: the card says "continues" and offers the rest. */
  truncated: boolean;
}

/** Lines and characters shown before a value is cut with a visible "continues" marker. */
export const PREVIEW_LINES = 6;
export const PREVIEW_CHARS = 300;

/** Splits a value for display: long or many-line values never push the rest of the card out of view unannounced. */
export function valueShape(value: string, maxLines = PREVIEW_LINES, maxChars = PREVIEW_CHARS): ValueShape {
  const all = value.split('\n');
  const chars = [...value].length;
  let head = all.slice(0, maxLines).join('\n');
  if ([...head].length > maxChars) head = [...head].slice(0, maxChars).join('');
  return { chars, lines: all.length, head, truncated: head !== value };
}

/** The first field of a payload that is not display-safe, in words, or null. */
function hiddenProblem(payload: unknown): string | null {
  const walk = (value: unknown, path: string): string | null => {
    if (typeof value === 'string') {
      const found = hiddenCharacter(value, true);
      return found
        ? `${path} holds an invisible or direction-changing character (${found.codePoint} at position ${found.index + 1}).`
        : null;
    }
    if (value === null || typeof value !== 'object') return null;
    for (const [k, x] of Object.entries(value)) {
      const key = hiddenCharacter(k);
      if (key) return `A field name in ${path} holds an invisible or direction-changing character (${key.codePoint}).`;
      const inner = walk(x, `${path}.${k}`);
      if (inner) return inner;
    }
    return null;
  };
  return walk(payload, 'payload');
}

function invalidSummary(asks: string, headline: string, problem: string): IntentSummary {
  return { asks, headline, details: [], fields: [], risk: 'high', valid: false, problem };
}

/**
 * A compact JSON body indented for reading, else the text exactly as sent. Only when re-serialising the parsed value
 * gives back the very text: a duplicate key, an odd number form or anything else parsing would lose stays visible.
 */
function formatBody(text: string): string {
  try {
    const value: unknown = JSON.parse(text);
    return JSON.stringify(value) === text && typeof value === 'object' ? JSON.stringify(value, null, 2) : text;
  } catch {
    return text;
  }
}

export function summarizeIntent(kind: string, payload: unknown): IntentSummary {
  if (!isIntentKind(kind)) {
    const summary = (payload as { summary?: unknown } | null)?.summary;
    const headline =
      typeof summary === 'string' && isDisplaySafe(summary)
        ? summary
        : 'This Clawkeep version does not know this kind of request.';
    return invalidSummary(
      `Unknown request kind "${isDisplaySafe(kind) ? kind : '(hidden characters)'}"`,
      headline,
      'Unknown request kind.',
    );
  }
  const risk = intentRisk(kind, payload);
  const asks = INTENT_KINDS[kind].description;
  const parsed = v.safeParse(SCHEMAS[kind], payload);
  if (!parsed.success) {
    // Never trust the hub's validation: the device checks every field it shows with the same schemas.
    return invalidSummary(
      asks,
      'The request is malformed.',
      hiddenProblem(payload) ?? 'The request does not match its kind.',
    );
  }
  const done = (headline: string, headlineField: string, details: SummaryRow[]): IntentSummary => ({
    asks,
    headline,
    details,
    fields: [...new Set([headlineField, ...details.map((d) => d.field.split(/[.[]/)[0]!)])],
    risk,
    valid: true,
    problem: null,
  });
  switch (kind) {
    case 'secret.request': {
      const p = parsed.output as v.InferOutput<typeof SecretRequestPayloadSchema>;
      return done(`the secret ${p.item}`, 'item', [{ field: 'reason', label: 'Reason', value: p.reason }]);
    }
    case 'http.request': {
      const r = parseHttpRequest(parsed.output);
      const rows: SummaryRow[] = [
        { field: 'method', label: 'Method', value: r.method, mono: true },
        { field: 'url', label: 'URL', value: r.url, mono: true },
      ];
      for (const [name, value] of r.headers)
        rows.push({ field: 'headers', label: `Header ${name}`, value, mono: true });
      if (r.body && 'text' in r.body)
        rows.push({ field: 'body', label: 'Body', value: formatBody(r.body.text), mono: true });
      else if (r.body) rows.push({ field: 'body', label: 'Body (bytes, base64)', value: r.body.base64, mono: true });
      if (r.reason !== null) rows.push({ field: 'reason', label: "Agent's reason", value: r.reason });
      return done(`${r.method} ${r.host}`, 'method', rows);
    }
    case 'action.approve': {
      const p = parsed.output as v.InferOutput<typeof ActionApprovePayloadSchema>;
      const claimed = p.risk === risk ? p.risk : `${p.risk} (shown as ${risk}: the lowest for this kind)`;
      const rows: SummaryRow[] = [{ field: 'risk', label: "Agent's risk", value: claimed }];
      if (p.details !== undefined) jsonRows(p.details, 'details', rows);
      return done(p.summary, 'summary', rows);
    }
    case 'payment.send': {
      const p = parsed.output as v.InferOutput<typeof PaymentSendPayloadSchema>;
      const rows: SummaryRow[] = [
        { field: 'amount_minor', label: 'Amount', value: formatAmount(p.amount_minor, p.currency) },
        { field: 'currency', label: 'Currency', value: p.currency },
        { field: 'payee', label: 'Payee', value: p.payee },
      ];
      if (p.memo !== undefined) rows.push({ field: 'memo', label: 'Memo', value: p.memo });
      return done(p.summary, 'summary', rows);
    }
    case 'shell.exec': {
      const p = parsed.output as v.InferOutput<typeof ShellExecPayloadSchema>;
      const rows: SummaryRow[] = [{ field: 'command', label: 'Command', value: p.command, mono: true }];
      if (p.cwd !== undefined) rows.push({ field: 'cwd', label: 'Working directory', value: p.cwd, mono: true });
      return done(p.summary, 'summary', rows);
    }
    case 'message.send': {
      const p = parsed.output as v.InferOutput<typeof MessageSendPayloadSchema>;
      return done(p.summary, 'summary', [
        { field: 'channel', label: 'Channel', value: p.channel },
        { field: 'to', label: 'To', value: p.to },
        { field: 'body', label: 'Message', value: p.body },
      ]);
    }
  }
}
