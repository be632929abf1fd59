import { useState } from 'preact/hooks';
import type { ClaimPreview, HubState } from '../../lib/hub-client/api';
import type { HubApi } from '../../lib/ext/hub/hub-api';
import { ErrorAlert, Notice } from '../shared/alert';
import { ClaimPolicyFields, defaultPolicyChoice, policyFromChoice, type PolicyChoice } from './claim-policy';
import { Field } from '../shared/field';
import { ago, useHubState } from './hub-use-state';
import { StandingApprovals } from '../approvals/standing-approvals';
import { AgentConfigDelivery } from './agent-config-delivery';
import { HubDevices } from './hub-devices';
import { errorMessage } from '../../lib/errors';
import { describeScope } from './scope-words';

function HubSettings({ hub, state, onState }: { hub: HubApi; state: HubState; onState: (s: HubState) => void }) {
  const [url, setUrl] = useState(state.hubUrl);
  const [code, setCode] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  // Which form the error or note belongs to: it is shown under that form's button, where the person looks.
  const [from, setFrom] = useState<'url' | 'enroll'>('url');
  const feedback = (form: 'url' | 'enroll') =>
    from === form ? (
      <>
        <ErrorAlert message={error} />
        <Notice>{note}</Notice>
      </>
    ) : null;
  /** Runs one form's action; true when it succeeded (a failed one keeps what the person typed, to try again). */
  const run = async (fn: () => Promise<HubState>, done: string, form: 'url' | 'enroll'): Promise<boolean> => {
    setBusy(true);
    setError(null);
    setNote(null);
    setFrom(form);
    try {
      onState(await fn());
      setNote(done);
      return true;
    } catch (err) {
      setError(errorMessage(err));
      return false;
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card stack" aria-label="Hub">
      <h2>Hub</h2>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          // Straight from the submit, before any await: a hub on another machine makes the browser ask for its
          // host permission, and that prompt needs this user gesture (lib/ext/hub/hub-page.ts).
          void run(() => hub.setHubUrl(url), 'Hub URL saved.', 'url');
        }}
      >
        <Field
          label="Hub URL"
          value={url}
          onInput={setUrl}
          required
          hint="The approvals hub this device talks to, e.g. http://127.0.0.1:8787, or https://hub.example.com for a hub on another machine: the browser then asks to let Clawkeep reach it."
        />
        <div class="actions">
          <button type="submit" disabled={busy}>
            Save hub URL
          </button>
        </div>
        {feedback('url')}
      </form>
      {state.enrolled ? (
        <p>
          Approving as <code class="mono">{state.deviceFingerprint}</code>
        </p>
      ) : (
        <form
          class="stack"
          onSubmit={(e) => {
            e.preventDefault();
            void run(() => hub.enroll(code), 'This device is enrolled.', 'enroll').then((ok) => ok && setCode(''));
          }}
        >
          <p class="muted">
            This device's key: <code class="mono">{state.deviceFingerprint}</code>. Enroll it once with the code the hub
            printed at its first start.
          </p>
          <Field label="Enrollment code" value={code} onInput={setCode} required />
          <div class="actions">
            <button type="submit" class="primary" disabled={busy}>
              Enroll
            </button>
          </div>
        </form>
      )}
      {feedback('enroll')}
      {state.hubFingerprint ? (
        <p class="small-text" id="hub-key-fingerprint">
          Hub key fingerprint: <code class="mono">{state.hubFingerprint}</code>
          <br />
          <span class="muted">
            Pinned when this device enrolled. It must match the “Hub identity” line that clawkeep hub prints.
          </span>
        </p>
      ) : null}
      <p class="muted small-text">
        Connection: {state.connection}
        {state.lastError ? ` — ${state.lastError}` : ''}
      </p>
    </section>
  );
}

function ClaimAgent({ hub, onClaimed }: { hub: HubApi; onClaimed: () => void }) {
  const [code, setCode] = useState('');
  const [preview, setPreview] = useState<ClaimPreview | null>(null);
  const [scopes, setScopes] = useState<Set<string>>(new Set());
  const [policy, setPolicy] = useState<PolicyChoice>(defaultPolicyChoice);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);

  const lookUp = async () => {
    setBusy(true);
    setError(null);
    setNote(null);
    setPreview(null);
    try {
      const p = await hub.lookupClaim(code);
      setPreview(p);
      // Least privilege (issue 13 item 14): nothing is granted until the person checks it.
      setScopes(new Set());
      setPolicy(defaultPolicyChoice());
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const claim = async () => {
    if (!preview) return;
    const picked = policyFromChoice(policy);
    if ('error' in picked) return setError(picked.error);
    setBusy(true);
    setError(null);
    try {
      await hub.claim(
        preview.claim_code,
        preview.requested_scopes.filter((s) => scopes.has(s)),
        picked.policy,
      );
      setNote(`Claimed ${preview.name}.`);
      setPreview(null);
      setCode('');
      onClaimed();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card stack" aria-label="Claim an agent">
      <h2>Claim an agent</h2>
      <form
        class="stack"
        onSubmit={(e) => {
          e.preventDefault();
          void lookUp();
        }}
      >
        <Field
          label="Claim code"
          value={code}
          onInput={setCode}
          required
          hint="The code your agent shows, like BCDF-GHJK."
        />
        <div class="actions">
          <button type="submit" disabled={busy}>
            Look up
          </button>
        </div>
      </form>
      {preview ? (
        <div class="stack" aria-label="Agent to claim" role="group">
          <dl class="details claim-preview">
            <dt>Agent</dt>
            <dd>{preview.name}</dd>
            <dt>Key fingerprint</dt>
            <dd>
              <code class="mono">{preview.fingerprint}</code>
            </dd>
            <dt>Manifest SHA-256</dt>
            <dd>
              <code class="mono small-text">{preview.manifestSha256}</code>
            </dd>
          </dl>
          {preview.keyProblem ? (
            // The box key secrets would be sealed to is not the one this agent's signing key signed: no claim at all.
            <p class="alert alert-error" role="alert" data-testid="claim-key-problem">
              {preview.keyProblem}
            </p>
          ) : (
            <ClaimChoices
              preview={preview}
              scopes={scopes}
              setScopes={setScopes}
              policy={policy}
              setPolicy={setPolicy}
              busy={busy}
              onClaim={() => void claim()}
            />
          )}
        </div>
      ) : null}
      <ErrorAlert message={error} />
      <Notice>{note}</Notice>
    </section>
  );
}

/** What the person decides once the key checked out: read the manifest, check each scope granted, pick the policy. */
function ClaimChoices(props: {
  preview: ClaimPreview;
  scopes: Set<string>;
  setScopes: (s: Set<string>) => void;
  policy: PolicyChoice;
  setPolicy: (p: PolicyChoice) => void;
  busy: boolean;
  onClaim: () => void;
}) {
  const { preview, scopes, setScopes, policy, setPolicy, busy } = props;
  return (
    <>
      <p class="muted">Compare the fingerprint with the one your agent shows before you claim it.</p>
      {/* Plain text on purpose: a manifest is the agent's words, never markup we render. */}
      <pre class="json manifest" aria-label="Manifest">
        {preview.manifestMarkdown}
      </pre>
      <fieldset class="stack">
        <legend>Requested scopes</legend>
        {preview.requested_scopes.length === 0 ? (
          <p class="muted">None.</p>
        ) : (
          <p class="muted small-text">Check each scope you grant; nothing is granted unchecked.</p>
        )}
        {preview.requested_scopes.map((s) => (
          <label key={s} class="scope-choice">
            <input
              type="checkbox"
              checked={scopes.has(s)}
              onChange={(e) => {
                const next = new Set(scopes);
                if (e.currentTarget.checked) next.add(s);
                else next.delete(s);
                setScopes(next);
              }}
            />
            <span class="scope-words">
              {describeScope(s)} <code class="mono small-text">{s}</code>
            </span>
          </label>
        ))}
      </fieldset>
      <ClaimPolicyFields value={policy} onChange={setPolicy} disabled={busy} />
      <div class="actions">
        <button type="button" class="primary" disabled={busy} onClick={props.onClaim}>
          Claim agent
        </button>
      </div>
    </>
  );
}

/** Approval window and notification switches: not secret, saved with the hub settings. */
function ApprovalPrefs({ hub, state, onState }: { hub: HubApi; state: HubState; onState: (s: HubState) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Shown at once while the background saves; dropped (back to the stored value) when it answers or fails.
  const [saving, setSaving] = useState<Partial<HubState['prefs']> | null>(null);
  const shown = { ...state.prefs, ...saving };
  const save = async (prefs: Partial<HubState['prefs']>) => {
    setBusy(true);
    setError(null);
    setSaving(prefs);
    try {
      onState(await hub.setPrefs(prefs));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setSaving(null);
      setBusy(false);
    }
  };
  return (
    <section class="card stack" aria-label="Approval requests">
      <h2>Approval requests</h2>
      <label>
        <input
          type="checkbox"
          checked={shown.approvalWindow}
          disabled={busy}
          onChange={(e) => void save({ approvalWindow: e.currentTarget.checked })}
        />{' '}
        Open an approval window for new requests
      </label>
      <label>
        <input
          type="checkbox"
          checked={shown.notifications}
          disabled={busy}
          onChange={(e) => void save({ notifications: e.currentTarget.checked })}
        />{' '}
        Show a system notification
      </label>
      <p class="muted small-text">A notification names the agent and the kind of request, never its contents.</p>
      <ErrorAlert message={error} />
    </section>
  );
}

function Installations({ hub, state, onState }: { hub: HubApi; state: HubState; onState: (s: HubState) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);
  const run = async (fn: () => Promise<HubState>) => {
    setConfirming(null);
    setBusy(true);
    setError(null);
    try {
      onState(await fn());
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card stack" aria-label="Installations">
      <h2>Installations</h2>
      {state.installations.length === 0 ? <p class="muted">No agents claimed yet.</p> : null}
      <ul class="item-list" aria-label="Claimed agents">
        {state.installations.map((i) => (
          <li key={i.installation_id}>
            <div class="stack">
              <strong>{i.name}</strong>
              <span class="small-text">
                Fingerprint: <code class="mono">{i.fingerprint ?? 'unknown (not claimed from this device)'}</code>
              </span>
              <span class="small-text scope-words">
                Scopes: {i.granted_scopes.length === 0 ? 'none' : i.granted_scopes.map(describeScope).join('; ')}
              </span>
              <span class="small-text">
                Status: {i.status} · Last activity: {ago(i.last_activity)}
              </span>
              {i.status === 'locked' ? (
                <div class="stack">
                  <p class="alert alert-error" role="alert">
                    Locked after repeated denials
                  </p>
                  <div class="actions">
                    <button
                      type="button"
                      disabled={busy}
                      onClick={() => void run(() => hub.enableInstallation(i.installation_id))}
                    >
                      Re-enable {i.name}
                    </button>
                  </div>
                </div>
              ) : null}
              {i.status !== 'revoked' && confirming !== i.installation_id ? (
                <div class="actions">
                  <button
                    type="button"
                    class="danger-outline"
                    disabled={busy}
                    aria-label={`Revoke ${i.name}`}
                    onClick={() => setConfirming(i.installation_id)}
                  >
                    Revoke
                  </button>
                </div>
              ) : null}
              {confirming === i.installation_id ? (
                <div class="confirm" role="group" aria-label="Confirm revoke">
                  <span>Revoke {i.name}? It loses every grant and its pending requests expire.</span>
                  <button
                    type="button"
                    class="danger"
                    disabled={busy}
                    autoFocus
                    onClick={() => void run(() => hub.revoke(i.installation_id))}
                  >
                    Yes, revoke
                  </button>
                  <button type="button" onClick={() => setConfirming(null)}>
                    Keep it
                  </button>
                </div>
              ) : null}
            </div>
          </li>
        ))}
      </ul>
      <ErrorAlert message={error} />
    </section>
  );
}

/** The vault page's "Agents" tab: hub URL, device enrolment, claiming agents, the installations list and their configs. */
export function HubAgents({ hub }: { hub: HubApi }) {
  const { state, setState, error, reload } = useHubState(hub);
  if (!state) return error ? <ErrorAlert message={error} /> : <p class="muted">Loading…</p>;
  return (
    <div class="grid-2">
      <HubSettings hub={hub} state={state} onState={setState} />
      {state.enrolled ? <ClaimAgent hub={hub} onClaimed={() => void reload()} /> : null}
      {state.enrolled ? <Installations hub={hub} state={state} onState={setState} /> : null}
      {state.enrolled && state.unlocked ? <AgentConfigDelivery hub={hub} state={state} onState={setState} /> : null}
      {state.enrolled && state.unlocked ? <StandingApprovals hub={hub} state={state} onState={setState} /> : null}
      {state.unlocked ? <ApprovalPrefs hub={hub} state={state} onState={setState} /> : null}
      {state.enrolled && state.unlocked ? <HubDevices hub={hub} /> : null}
    </div>
  );
}
