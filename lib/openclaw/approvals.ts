/**
 * Pending approvals as Clawkeep shows them (spec §2, §6): normalisation of the gateway's exec and plugin approval
 * records, and the merge rules — backfill from `*.approval.list`, live `*.approval.requested` merged by id, dropped
 * on `*.approval.resolved` or expiry.
 */
import { OpenClawError } from './errors';

export type ApprovalDecision = 'allow-once' | 'allow-always' | 'deny';
export type ApprovalKind = 'exec' | 'plugin';

const DECISIONS: readonly ApprovalDecision[] = ['allow-once', 'allow-always', 'deny'];
/** When an exec request does not say, offer only what every gateway allows. */
const DEFAULT_EXEC_DECISIONS: readonly ApprovalDecision[] = ['allow-once', 'deny'];
/** The gateway's own default for plugin approvals. */
const DEFAULT_PLUGIN_DECISIONS: readonly ApprovalDecision[] = ['allow-once', 'allow-always', 'deny'];

interface PendingBase {
  id: string;
  createdAtMs: number;
  expiresAtMs: number;
  agentId: string | null;
  sessionKey: string | null;
  /** Only these buttons may be shown; resolving with anything else throws. */
  allowedDecisions: ApprovalDecision[];
}

export interface PendingExecApproval extends PendingBase {
  kind: 'exec';
  command: string;
  cwd: string | null;
  /** "gateway" | "node" (or what the gateway said). */
  host: string | null;
  nodeId: string | null;
  resolvedPath: string | null;
  /** `commandAnalysis.warningLines` followed by `warningText` (when not already among them). */
  warnings: string[];
  riskKinds: string[];
}

export interface PendingPluginApproval extends PendingBase {
  kind: 'plugin';
  title: string;
  description: string;
  severity: 'info' | 'warning' | 'critical';
  toolName: string | null;
  pluginId: string | null;
}

export type PendingApproval = PendingExecApproval | PendingPluginApproval;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max = 4096): string | null => (typeof v === 'string' && v.length > 0 ? v.slice(0, max) : null);
const strList = (v: unknown, maxItems = 64): string[] =>
  Array.isArray(v)
    ? v
        .filter((s): s is string => typeof s === 'string' && s.length > 0)
        .slice(0, maxItems)
        .map((s) => s.slice(0, 2000))
    : [];
const time = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : null);

function decisions(v: unknown, fallback: readonly ApprovalDecision[]): ApprovalDecision[] {
  const out: ApprovalDecision[] = [];
  if (Array.isArray(v))
    for (const d of v)
      if (DECISIONS.includes(d as ApprovalDecision) && !out.includes(d as ApprovalDecision))
        out.push(d as ApprovalDecision);
  return Array.isArray(v) ? out : [...fallback];
}

/**
 * Normalises one approval record — a `*.approval.list` entry or a `*.approval.requested` payload, both
 * `{id, request, createdAtMs, expiresAtMs, approvalKind?}`. Returns null for a record that is not usable (no id,
 * no command/title, no times): it is not shown rather than shown wrong.
 */
export function normalizeApproval(record: unknown, kind: ApprovalKind): PendingApproval | null {
  if (!isRecord(record)) return null;
  const id = str(record.id, 256);
  const createdAtMs = time(record.createdAtMs);
  const expiresAtMs = time(record.expiresAtMs);
  const request = record.request;
  if (!id || createdAtMs === null || expiresAtMs === null || !isRecord(request)) return null;
  if (typeof record.approvalKind === 'string' && record.approvalKind !== kind) return null;
  const base = {
    id,
    createdAtMs,
    expiresAtMs,
    agentId: str(request.agentId, 256),
    sessionKey: str(request.sessionKey, 512),
  };
  if (kind === 'exec') {
    const command =
      str(request.command, 16384) ??
      (Array.isArray(request.commandArgv) ? strList(request.commandArgv, 256).join(' ') || null : null);
    if (!command) return null;
    const analysis = isRecord(request.commandAnalysis) ? request.commandAnalysis : {};
    const warnings = strList(analysis.warningLines);
    const warningText = str(request.warningText, 4000);
    if (warningText && !warnings.includes(warningText)) warnings.push(warningText);
    return {
      kind: 'exec',
      ...base,
      allowedDecisions: decisions(request.allowedDecisions, DEFAULT_EXEC_DECISIONS),
      command,
      cwd: str(request.cwd),
      host: str(request.host, 64),
      nodeId: str(request.nodeId, 256),
      resolvedPath: str(request.resolvedPath),
      warnings,
      riskKinds: strList(analysis.riskKinds),
    };
  }
  const title = str(request.title, 512);
  if (!title) return null;
  const severity = request.severity === 'warning' || request.severity === 'critical' ? request.severity : 'info';
  return {
    kind: 'plugin',
    ...base,
    allowedDecisions: decisions(request.allowedDecisions, DEFAULT_PLUGIN_DECISIONS),
    title,
    description: str(request.description, 8192) ?? '',
    severity,
    toolName: str(request.toolName, 256),
    pluginId: str(request.pluginId, 256),
  };
}

/** The id a `*.approval.resolved` event refers to. */
export function resolvedId(payload: unknown): string | null {
  return isRecord(payload) ? str(payload.id, 256) : null;
}

/** Pending approvals keyed by kind and id. Time comes from `now` so tests and the client agree on expiry. */
export class ApprovalBook {
  private readonly items = new Map<string, PendingApproval>();

  constructor(private readonly now: () => number = Date.now) {}

  private static key(kind: ApprovalKind, id: string): string {
    return `${kind}:${id}`;
  }

  /** Adds or replaces by id; ignores records already expired. Returns true when the list changed. */
  upsert(approval: PendingApproval): boolean {
    if (approval.expiresAtMs <= this.now()) return this.remove(approval.kind, approval.id);
    this.items.set(ApprovalBook.key(approval.kind, approval.id), approval);
    return true;
  }

  /** Replaces everything of `kind` by a backfill, keeping live items that arrived while the list was in flight. */
  backfill(kind: ApprovalKind, approvals: PendingApproval[], keepIds: ReadonlySet<string> = new Set()): void {
    for (const [k, v] of this.items) if (v.kind === kind && !keepIds.has(v.id)) this.items.delete(k);
    for (const a of approvals) if (a.kind === kind) this.upsert(a);
  }

  remove(kind: ApprovalKind, id: string): boolean {
    return this.items.delete(ApprovalBook.key(kind, id));
  }

  get(kind: ApprovalKind, id: string): PendingApproval | undefined {
    const a = this.items.get(ApprovalBook.key(kind, id));
    return a && a.expiresAtMs > this.now() ? a : undefined;
  }

  /** Drops expired items; returns true when any was dropped. */
  prune(): boolean {
    const t = this.now();
    let changed = false;
    for (const [k, v] of this.items) if (v.expiresAtMs <= t) changed = this.items.delete(k) || changed;
    return changed;
  }

  /** Live items, oldest first. */
  list(): PendingApproval[] {
    const t = this.now();
    return [...this.items.values()]
      .filter((a) => a.expiresAtMs > t)
      .sort((a, b) => a.createdAtMs - b.createdAtMs || a.id.localeCompare(b.id));
  }

  /** The earliest expiry among live items, for scheduling the next prune. */
  nextExpiry(): number | null {
    let next: number | null = null;
    for (const a of this.items.values()) if (next === null || a.expiresAtMs < next) next = a.expiresAtMs;
    return next;
  }

  clear(): void {
    this.items.clear();
  }

  /** Throws unless `id` is pending and `decision` is in its `allowedDecisions`. */
  assertDecision(kind: ApprovalKind, id: string, decision: string): PendingApproval {
    const a = this.get(kind, id);
    if (!a)
      throw new OpenClawError(
        'approval_unknown',
        'That approval is no longer pending (answered elsewhere, or expired).',
      );
    if (!a.allowedDecisions.includes(decision as ApprovalDecision)) {
      throw new OpenClawError(
        'decision_not_allowed',
        `This request does not allow "${decision}". Allowed: ${a.allowedDecisions.join(', ')}.`,
      );
    }
    return a;
  }
}
