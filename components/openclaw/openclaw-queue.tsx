import { useEffect, useState } from 'preact/hooks';
import type { ApprovalDecision, PendingApproval } from '../../lib/openclaw/approvals';
import type { OpenClawApi } from '../../lib/ext/openclaw/openclaw-api';
import { ErrorAlert } from '../shared/alert';
import { useArmedActions } from '../shared/use-armed-action';
import { useNow } from '../shared/use-now';
import { countdown } from '../approvals/approval-queue';
import { useOpenClawState } from './openclaw-use-state';

const LABELS: Record<ApprovalDecision, string> = {
  'allow-once': 'Allow once',
  'allow-always': 'Allow always',
  deny: 'Deny',
};
/** Buttons in a fixed order, only for the decisions the gateway allows. */
const ORDER: ApprovalDecision[] = ['allow-once', 'allow-always', 'deny'];

function ApprovalCard({
  a,
  busy,
  onDecide,
}: {
  a: PendingApproval;
  busy: boolean;
  onDecide: (d: ApprovalDecision) => void;
}) {
  const now = useNow();
  const expired = a.expiresAtMs <= now;
  // Allowing is armed like Approve on hub requests (input-arming.ts); Deny is always available.
  const armed = useArmedActions(`${a.kind}:${a.id}`);
  return (
    <section
      class="card stack"
      aria-label={a.kind === 'exec' ? 'OpenClaw command approval' : 'OpenClaw plugin approval'}
    >
      <p class="muted small-text">
        OpenClaw {a.kind === 'exec' ? 'wants to run a command' : 'plugin asks for approval'}
      </p>
      <dl class="details">
        {a.kind === 'exec' ? (
          <>
            <dt>Command</dt>
            <dd>
              <code class="mono">{a.command}</code>
            </dd>
            {a.resolvedPath ? (
              <>
                <dt>Program</dt>
                <dd class="mono small-text">{a.resolvedPath}</dd>
              </>
            ) : null}
            <dt>Directory</dt>
            <dd class="mono small-text">{a.cwd ?? 'unknown'}</dd>
            <dt>Host</dt>
            <dd>{a.host === 'node' && a.nodeId ? `node ${a.nodeId}` : (a.host ?? 'unknown')}</dd>
          </>
        ) : (
          <>
            <dt>What</dt>
            <dd>
              <strong>{a.title}</strong>
            </dd>
            {a.description ? (
              <>
                <dt>Details</dt>
                <dd class="notes">{a.description}</dd>
              </>
            ) : null}
            {a.toolName ? (
              <>
                <dt>Tool</dt>
                <dd class="mono small-text">{a.toolName}</dd>
              </>
            ) : null}
            <dt>Severity</dt>
            <dd>
              <span class={a.severity === 'critical' ? 'badge-bad' : a.severity === 'warning' ? 'badge-warn' : 'tag'}>
                {a.severity}
              </span>
            </dd>
          </>
        )}
        <dt>Agent</dt>
        <dd>{a.agentId ?? 'unknown'}</dd>
        {a.kind === 'exec' && (a.warnings.length > 0 || a.riskKinds.length > 0) ? (
          <>
            <dt>Risk</dt>
            <dd>
              {a.riskKinds.map((r) => (
                <span key={r} class="badge-warn">
                  {r}
                </span>
              ))}
              {a.warnings.map((w) => (
                <p key={w} class="small-text">
                  {w}
                </p>
              ))}
            </dd>
          </>
        ) : null}
        <dt>Expires</dt>
        <dd>{expired ? 'expired' : `in ${countdown(a.expiresAtMs, now)}`}</dd>
      </dl>
      <div class="actions">
        {ORDER.filter((d) => a.allowedDecisions.includes(d)).map((d) => (
          <button
            key={d}
            type="button"
            class={d === 'deny' ? 'danger-outline' : d === 'allow-once' ? 'primary' : undefined}
            disabled={busy || (expired && d !== 'deny')}
            {...(d === 'deny' ? { onClick: () => onDecide(d) } : armed.bind(d, () => onDecide(d)))}
          >
            {LABELS[d]}
          </button>
        ))}
      </div>
    </section>
  );
}

interface OpenClawQueueProps {
  api: OpenClawApi;
  unlocked: boolean;
  /** How many approvals are shown, whenever that changes (the approval window closes only when nothing is left). */
  onCount?: (count: number) => void;
  /** After each decision made here: how many approvals are still pending. */
  onDecided?: (remaining: number) => void;
}

/** OpenClaw's pending approvals (exec commands, plugin requests). Renders nothing when none are pending. */
export function OpenClawQueue({ api, unlocked, onCount, onDecided }: OpenClawQueueProps) {
  const { state, setState, error: loadError } = useOpenClawState(api, unlocked);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const count = unlocked && state?.unlocked ? state.approvals.length : 0;
  useEffect(() => onCount?.(count), [count, onCount]);
  if (!unlocked || !state?.unlocked) return null;
  const list = state.approvals;
  if (list.length === 0) return error || loadError ? <ErrorAlert message={error ?? loadError} /> : null;
  const decide = async (a: PendingApproval, d: ApprovalDecision) => {
    setBusy(true);
    setError(null);
    try {
      const next = await api.resolve(a.kind, a.id, d);
      setState(next);
      onDecided?.(next.approvals.length);
    } catch (err) {
      setError(err instanceof Error && err.message ? err.message : 'Could not answer the gateway.');
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="stack" role="region" aria-label="OpenClaw approvals">
      {list.map((a) => (
        <ApprovalCard key={`${a.kind}:${a.id}`} a={a} busy={busy} onDecide={(d) => void decide(a, d)} />
      ))}
      <ErrorAlert message={error} />
    </div>
  );
}
