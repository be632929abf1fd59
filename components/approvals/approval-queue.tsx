import { useEffect, useState } from 'preact/hooks';
import { canonicalize } from '../../lib/protocol/canonical';
import type { Decision } from '../../lib/protocol/approval';
import type { HttpCallView, HubState, PendingIntentView } from '../../lib/hub-client/api';
import { PREPARE_REFRESH_MS, type HubApi } from '../../lib/ext/hub/hub-api';
import { valueShape } from '../../lib/hub-client/summary';
import { describeHttpRequest, parseHttpRequest, type HttpRequestIntent } from '../../lib/protocol/http-request';
import { ErrorAlert } from '../shared/alert';
import { useArmedActions } from '../shared/use-armed-action';
import { useNow } from '../shared/use-now';
import { useHubState } from '../agents/hub-use-state';
import { ClawkeepError, errorMessage } from '../../lib/errors';
import { decisionSentence, denyAllSentence, type DecidedRequest } from '../../lib/hub-client/decision-text';
import { HttpRuleOptions, type HttpRuleChoice } from './http-rule-options';

/** "4:59" until expiry, "expired" after. */
export function countdown(expiresAt: number, now: number): string {
  const s = Math.floor((expiresAt - now) / 1000);
  if (s <= 0) return 'expired';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${sec}` : `${m}:${sec}`;
}

function rawJson(view: PendingIntentView): string {
  try {
    return JSON.stringify(JSON.parse(canonicalize({ kind: view.intent.kind, payload: view.intent.payload })), null, 2);
  } catch {
    return JSON.stringify({ kind: view.intent.kind, payload: view.intent.payload }, null, 2);
  }
}

/**
 * One signed value as the card shows it: long or many-line values are cut after a few lines with a visible
 * "continues" marker and their full length, and the whole value is one click away (issue 13 item 7: 60 newlines
 * must not push a command's tail out of view unannounced).
 */
function SignedValue({ value, mono, label }: { value: string; mono: boolean; label: string }) {
  const [open, setOpen] = useState(false);
  useEffect(() => setOpen(false), [value]);
  const shape = valueShape(value);
  const long = shape.truncated || shape.lines > 1;
  return (
    <div class="signed-value">
      <span class={mono ? 'notes mono' : 'notes'}>{open ? value : shape.head}</span>
      {shape.truncated && !open ? (
        <span class="continues" role="note">
          … continues
        </span>
      ) : null}
      {long ? (
        <span class="value-length muted small-text">
          {shape.lines} {shape.lines === 1 ? 'line' : 'lines'} · {shape.chars} characters
          {shape.truncated ? (
            <>
              {' '}
              <button
                type="button"
                class="link"
                aria-expanded={open}
                aria-label={`${open ? 'Show less of' : 'Show all of'} ${label}`}
                onClick={() => setOpen(!open)}
              >
                {open ? 'Show less' : 'Show all'}
              </button>
            </>
          ) : null}
        </span>
      ) : null}
    </div>
  );
}

/** A field path ("details.pr.number") with line-break opportunities before each "." and "[": a narrow card wraps it
 * between its parts, not in the middle of a name. */
function fieldLabel(label: string) {
  return label.split(/(?=[.[])/).map((part, i) =>
    i === 0 ? (
      part
    ) : (
      <>
        <wbr />
        {part}
      </>
    ),
  );
}

/** The parsed http.request behind a valid card, or null (another kind, or malformed: the card then says so). */
function httpCallOf(view: PendingIntentView): HttpRequestIntent | null {
  if (view.intent.kind !== 'http.request' || !view.summary.valid) return null;
  try {
    return parseHttpRequest(view.intent.payload);
  } catch {
    return null;
  }
}

/**
 * An http.request in words (issue 18): "research-bot wants to POST https://api.github.com/repos/o/r/pulls using your
 * “GitHub token” in the Authorization header", with the host on a line of its own, since the host is what a secret's
 * allowed hosts and the agent's `http:HOST` scope name.
 */
function HttpCallHead({ call, agentName }: { call: HttpRequestIntent; agentName: string }) {
  return (
    <div class="stack http-call-head">
      <p class="http-call-sentence">{describeHttpRequest(agentName, call)}</p>
      <p class="http-call-host">
        Host <strong class="mono">{call.host}</strong>
      </p>
    </div>
  );
}

interface CardProps {
  view: PendingIntentView;
  index: number;
  total: number;
  deviceFingerprint: string | null;
  busy: boolean;
  onDecide: (decision: Decision, remember?: boolean, rule?: HttpRuleChoice) => void;
  onDenyAll: () => void;
  onMove: (delta: number) => void;
}

function IntentCard({ view, index, total, deviceFingerprint, busy, onDecide, onDenyAll, onMove }: CardProps) {
  const now = useNow();
  const [raw, setRaw] = useState(false);
  const [ack, setAck] = useState(false);
  useEffect(() => {
    setRaw(false);
    setAck(false);
  }, [view.intent.intent_id]);
  const { intent, summary } = view;
  const expired = intent.expires_at <= now;
  const highRisk = view.risk === 'high';
  const canApprove = !busy && !expired && view.blocked === null && (!highRisk || ack);

  // No single-key shortcuts: a keystroke typed for another window must never decide (issue 13 item 3). Approving
  // controls are armed: they take a click or Enter/Space only when the gesture began after the card was visible.
  const armed = useArmedActions(intent.intent_id);

  const granted = view.requiredScope !== null && view.grantedScopes.includes(view.requiredScope);
  const call = httpCallOf(view);
  // Issue 15: the head and the decision footer never scroll; only the body between them does, so Approve and Deny
  // stay inside the popup's 600 px and the window's height whatever the payload's length, and every byte of the
  // payload stays reachable by scrolling the body (focusable, so the keyboard can scroll it too).
  return (
    <section class="card approval-card" aria-label="Approval request">
      <div class="row approval-card-head">
        <span class="muted">
          {index + 1} of {total}
        </span>
        {total > 1 ? (
          <span class="actions">
            <button type="button" aria-label="Previous request" disabled={index === 0} onClick={() => onMove(-1)}>
              ‹
            </button>
            <button type="button" aria-label="Next request" disabled={index === total - 1} onClick={() => onMove(1)}>
              ›
            </button>
          </span>
        ) : null}
      </div>
      <div class="approval-card-body stack" role="group" aria-label="Request details" tabIndex={0}>
        {call ? <HttpCallHead call={call} agentName={view.agentName} /> : null}
        <dl class="details approval-fields">
          <dt>Agent</dt>
          <dd>
            <strong>{view.agentName}</strong>
            <br />
            <code class="mono small-text">{view.agentFingerprint ?? 'unknown key'}</code>
          </dd>
          <dt>Asks for</dt>
          <dd>{summary.asks}</dd>
          <dt>What</dt>
          <dd>
            <strong>{summary.headline}</strong>
          </dd>
          {summary.details.map((d) => (
            <>
              <dt key={`${d.field}-t`} class={d.field.startsWith('details') ? 'mono small-text' : undefined}>
                {fieldLabel(d.label)}
              </dt>
              <dd key={`${d.field}-d`}>
                <SignedValue value={d.value} mono={d.mono === true} label={d.label} />
              </dd>
            </>
          ))}
          <dt>Scope</dt>
          <dd class="small-text">
            Asks: {view.requiredScope ?? 'unknown'} · {granted ? 'granted' : 'not granted'}
            <br />
            Granted: {view.grantedScopes.join(', ') || 'none'}
          </dd>
          <dt>Risk</dt>
          <dd>
            <span class={view.risk === 'high' ? 'badge-bad' : view.risk === 'medium' ? 'badge-warn' : 'tag'}>
              {view.risk} risk
            </span>
          </dd>
          <dt>Expires</dt>
          <dd>{expired ? 'expired' : `in ${countdown(intent.expires_at, now)}`}</dd>
        </dl>
        <button type="button" class="small" aria-expanded={raw} onClick={() => setRaw(!raw)}>
          {raw ? 'Hide raw JSON' : 'Show raw JSON'}
        </button>
        {raw ? (
          <pre class="json" aria-label="Raw request">
            {rawJson(view)}
            {`\npayload_hash: ${intent.payload_hash}`}
          </pre>
        ) : null}
        <p class="muted small-text">
          Approving as <code class="mono">{deviceFingerprint ?? 'unknown device'}</code>
        </p>
        {view.canAlwaysApprove && intent.kind !== 'http.request' ? (
          <p class="muted small-text" id="dont-ask-again-hint">
            Don't ask again approves this request now, and this exact request from this agent whenever it asks again,
            until you revoke it in the Agents tab.
          </p>
        ) : null}
      </div>
      <div class="approval-card-footer">
        {view.blocked ? (
          <p class="alert alert-error" role="alert">
            {view.blocked} Only Deny is possible.
          </p>
        ) : null}
        {highRisk && view.blocked === null ? (
          <label>
            <input type="checkbox" checked={ack} onChange={(e) => setAck(e.currentTarget.checked)} /> I understand the
            risk
          </label>
        ) : null}
        <div class="actions approval-decide">
          <button
            type="button"
            class="primary"
            disabled={!canApprove}
            {...armed.bind('approve', () => onDecide('approve'))}
          >
            Approve
          </button>
          <button type="button" class="danger-outline" disabled={busy} onClick={() => onDecide('deny')}>
            Deny
          </button>
        </div>
        <div class="actions approval-secondary">
          {view.canAlwaysApprove && intent.kind === 'http.request' ? (
            <HttpRuleOptions
              key={intent.intent_id}
              view={view}
              disabled={!canApprove}
              armed={armed}
              onAlways={(rule) => onDecide('approve', true, rule)}
            />
          ) : view.canAlwaysApprove ? (
            <button
              type="button"
              class="link"
              disabled={!canApprove}
              aria-describedby="dont-ask-again-hint"
              {...armed.bind('always', () => onDecide('approve', true))}
            >
              Don't ask again
            </button>
          ) : null}
          <button type="button" class="link link-danger" disabled={busy} onClick={onDenyAll}>
            Deny all from this agent
          </button>
        </div>
      </div>
    </section>
  );
}

interface QueueProps {
  hub: HubApi;
  unlocked: boolean;
  /**
   * Asks the browser for the host permission an http.request's call needs (lib/ext/hub/host-access.ts
   * requestCallAccess); called synchronously in the Approve click, so the browser's prompt has its user gesture.
   */
  requestCallAccess?: (host: string) => Promise<boolean>;
  /** After each decision made here: how many requests are still pending. */
  onDecided?: (remaining: number) => void;
}

/** What became of a call made on approval (issue 18: the card says when a secret was cut from the answer). */
export function callNote(call: HttpCallView): string {
  if (call.outcome === 'failed') return 'No answer came; the agent was told why.';
  if (call.redirected)
    return `${call.host} answered with a redirect, which was not followed: the secret went nowhere else.`;
  const answer = `${call.host} answered ${call.status} (${call.bytes} bytes).`;
  if (call.withheld)
    return `${answer} The answer may contain your secret in a form that could not be cut out, so its body was withheld from the agent.`;
  if (call.redacted.length > 0)
    return `${answer} It contained your secret (${call.redacted.join(', ')}); that was cut out before the answer went to the agent.`;
  return answer;
}

/** What the card showed about `view`, for the confirmation sentence. */
const shown = (view: PendingIntentView): DecidedRequest => ({
  agentName: view.agentName,
  kind: view.intent.kind,
  payload: view.intent.payload,
  valid: view.summary.valid,
});

/**
 * The queue of pending requests, one at a time, "1 of N", and after each decision made here a short confirmation of
 * what was sent to whom (issue 15). Renders nothing when nothing is pending and nothing was decided here.
 */
export function ApprovalQueue({ hub, unlocked, onDecided, requestCallAccess }: QueueProps) {
  const { state, setState, error: loadError } = useHubState(hub, unlocked);
  const [index, setIndex] = useState(0);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [confirmation, setConfirmation] = useState<string | null>(null);
  const pending = state?.pending ?? [];
  const i = Math.min(index, Math.max(0, pending.length - 1));
  const view = pending[i];
  const shownId = unlocked && state?.unlocked ? view?.intent.intent_id : undefined;

  // The card is on screen: the background prepares the decision on it now (a fresh proof of the hub's identity among
  // it), so the click does not wait for that; again while it stays, so the proof stays young enough to reuse.
  useEffect(() => {
    if (!shownId) return;
    const prepare = () => void hub.prepareDecision(shownId).catch(() => {});
    prepare();
    const timer = setInterval(prepare, PREPARE_REFRESH_MS);
    return () => clearInterval(timer);
  }, [hub, shownId]);

  const act = async (fn: () => Promise<HubState>, sentence: string, intentId?: string) => {
    setBusy(true);
    setError(null);
    setConfirmation(null);
    try {
      const next = await fn();
      setState(next);
      const call = intentId === undefined ? undefined : next.httpCalls.find((c) => c.intent_id === intentId);
      setConfirmation(call ? `${sentence} ${callNote(call)}` : sentence);
      onDecided?.(next.pending.length);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  if (!unlocked || !state?.unlocked) return null;
  const done = confirmation ? (
    <p class="alert alert-ok" role="status" aria-label="Decision sent">
      {confirmation}
    </p>
  ) : null;
  if (!view)
    return error || loadError || done ? (
      <div class="stack approval-queue">
        {done}
        <ErrorAlert message={error ?? loadError} />
      </div>
    ) : null;
  return (
    <div class="stack approval-queue">
      <div class="stack approval-queue-cards" aria-label="Pending requests" role="region">
        <IntentCard
          view={view}
          index={i}
          total={pending.length}
          deviceFingerprint={state.deviceFingerprint}
          busy={busy}
          onDecide={(d, remember, rule) => {
            // Asked before anything awaits: the browser's permission prompt needs this click's gesture.
            const call = d === 'approve' ? httpCallOf(view) : null;
            const access = call && requestCallAccess ? requestCallAccess(call.host) : null;
            void act(
              async () => {
                if (call && access && !(await access))
                  throw new ClawkeepError(
                    'http_permission_missing',
                    `Clawkeep needs your permission to reach https://${call.host} to make this call. Nothing was sent.`,
                  );
                return hub.decide(view.intent.intent_id, view.intent.payload_hash, d, remember, rule);
              },
              decisionSentence(shown(view), d === 'deny' ? 'deny' : remember ? 'always' : 'approve'),
              view.intent.intent_id,
            );
          }}
          onDenyAll={() => {
            const agentId = view.intent.agent_id;
            const count = pending.filter((p) => p.intent.agent_id === agentId).length;
            void act(() => hub.denyAllFromAgent(agentId), denyAllSentence(view.agentName, count));
          }}
          onMove={(delta) => setIndex(Math.max(0, Math.min(pending.length - 1, i + delta)))}
        />
        <ErrorAlert message={error} />
      </div>
      {done}
    </div>
  );
}
