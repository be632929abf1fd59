import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { QuoteVerification } from '../../lib/attest/types';
import {
  collateralWindow,
  reasonInWords,
  shortHex,
  signedByIntel,
  STATUS_MEANING,
  utc,
  verdictLine,
} from './tee-certificate-wording';
import { StaleCollateral, type StaleCollateralFixes } from './tee-stale-collateral';

function Row({ label, children }: { label: string; children: ComponentChildren }) {
  return (
    <>
      <dt>{label}</dt>
      <dd>{children}</dd>
    </>
  );
}

function Hex({ value }: { value: string | null | undefined }) {
  return value ? <code class="tee-hex">{value}</code> : <span class="muted">—</span>;
}

function SignedRow({ v }: { v: QuoteVerification }) {
  const signed = signedByIntel(v);
  if (signed === 'yes') return <span class="tee-yes">Yes</span>;
  if (signed === 'test-root') return <span class="tee-no">No: a test root was trusted instead of Intel’s</span>;
  if (signed === 'not-checked')
    return <span class="tee-no">Not checked: verification stopped before the signatures</span>;
  return <span class="tee-no">No</span>;
}

function StatusRow({ v }: { v: QuoteVerification }) {
  if (!v.status) {
    const why = v.error?.code === 'tcb_level_not_found' ? 'no TCB level matches this machine' : 'not evaluated';
    return <span class="tee-no">None: {why}</span>;
  }
  return (
    <div class="stack-tight">
      <span class={v.status === 'UpToDate' ? 'tee-yes' : 'tee-warn'}>{v.status}</span>
      <span class="small-text">{STATUS_MEANING[v.status]}</span>
      <span class="small-text">
        {v.advisoryIds.length ? `Advisories: ${v.advisoryIds.join(', ')}` : 'No security advisories.'}
      </span>
    </div>
  );
}

function CodeRow({ v }: { v: QuoteVerification }) {
  const d = v.dstack;
  return (
    <div class="stack-tight">
      <span>
        {v.teeType === 'SGX' ? 'MRENCLAVE ' : 'MRTD '}
        <code class="tee-hex">{shortHex(v.teeType === 'SGX' ? v.enclave?.mrEnclave : v.mrtd)}</code>
      </span>
      {d ? (
        <>
          {!v.verified ? (
            <span class="small-text tee-warn">Read from a quote that was not verified: do not rely on it.</span>
          ) : null}
          <span>
            Compose hash <Hex value={d.composeHash} />
          </span>
          <span>
            App id <Hex value={d.appId} />
          </span>
          <span>
            OS image {d.osImageHash ? <Hex value={d.osImageHash} /> : <span class="muted">not in the event log</span>}
          </span>
          {d.policyChecks
            .filter((c) => c.id === 'dstack.policy.compose-hash' || c.id === 'dstack.policy.app-id')
            .map((c) => (
              <span key={c.id} class={c.ok ? 'small-text tee-yes' : 'small-text tee-no'}>
                {c.ok ? '✓ ' : '✗ '}
                {c.id === 'dstack.policy.compose-hash' ? 'Compose hash' : 'App id'}
                {c.ok ? ' is the one you expected.' : ` is not the one you expected${c.detail ? `: ${c.detail}` : '.'}`}
              </span>
            ))}
          <span class={d.replayed ? 'small-text' : 'small-text tee-no'}>
            {d.replayed
              ? 'The event log replays to the quote’s RTMRs.'
              : 'The event log does NOT match the quote’s RTMRs.'}
          </span>
        </>
      ) : (
        <span class="muted">No dstack event log given, so the app inside is not identified.</span>
      )}
    </div>
  );
}

function DebugRow({ v }: { v: QuoteVerification }) {
  if (v.debug === null) return <span class="muted">Unknown</span>;
  return v.debug ? (
    <span class="tee-no">On: the host can read this TEE’s memory</span>
  ) : (
    <span class="tee-yes">Off</span>
  );
}

function CheckedRow({ v }: { v: QuoteVerification }) {
  const window = collateralWindow(v);
  return (
    <div class="stack-tight">
      <span>At {utc(v.verifiedAt)}</span>
      <span class="small-text">
        {window
          ? `Collateral valid ${utc(window.from)} to ${utc(window.to)}`
          : v.collateral
            ? 'The collateral documents are never valid at the same time.'
            : 'Collateral dates not read.'}
      </span>
    </div>
  );
}

function AllFields({ v }: { v: QuoteVerification }) {
  const td = v.td;
  const c = v.collateral;
  const d = v.dstack;
  return (
    <dl class="details tee-fields">
      <Row label="TEE type">{v.teeType ?? '—'}</Row>
      <Row label="Quote version">
        {v.version ?? '—'}
        {v.bodyType ? ` (${v.bodyType})` : ''}
      </Row>
      <Row label="FMSPC">{v.fmspc ?? '—'}</Row>
      <Row label="MRTD">
        <Hex value={v.mrtd} />
      </Row>
      {[0, 1, 2, 3].map((i) => (
        <Row key={i} label={`RTMR${i}`}>
          <Hex value={v.rtmrs?.[i]} />
        </Row>
      ))}
      <Row label="MRCONFIGID">
        <Hex value={v.mrConfigId} />
      </Row>
      <Row label="MROWNER">
        <Hex value={v.mrOwner} />
      </Row>
      <Row label="MROWNERCONFIG">
        <Hex value={td?.mrOwnerConfig} />
      </Row>
      <Row label="REPORTDATA">
        <Hex value={v.reportData} />
      </Row>
      <Row label="TD attributes">
        <Hex value={td?.tdAttributes} />
      </Row>
      <Row label="XFAM">
        <Hex value={td?.xfam} />
      </Row>
      <Row label="TEE TCB SVN">
        <Hex value={td?.teeTcbSvn} />
      </Row>
      <Row label="MRSEAM">
        <Hex value={td?.mrSeam} />
      </Row>
      {td?.mrServiceTd !== undefined ? (
        <Row label="MRSERVICETD">
          <Hex value={td.mrServiceTd} />
        </Row>
      ) : null}
      {v.enclave ? (
        <>
          <Row label="MRENCLAVE">
            <Hex value={v.enclave.mrEnclave} />
          </Row>
          <Row label="MRSIGNER">
            <Hex value={v.enclave.mrSigner} />
          </Row>
          <Row label="ISV prod id / SVN">{`${v.enclave.isvProdId} / ${v.enclave.isvSvn}`}</Row>
        </>
      ) : null}
      <Row label="TCB status">{v.status ?? '—'}</Row>
      <Row label="Advisories">{v.advisoryIds.length ? v.advisoryIds.join(', ') : 'none'}</Row>
      {c ? (
        <>
          <Row label="TCB info">{`${utc(c.tcbInfoIssueDate)} to ${utc(c.tcbInfoNextUpdate)} (evaluation ${c.tcbEvaluationDataNumber})`}</Row>
          <Row label="QE identity">{`${utc(c.qeIdentityIssueDate)} to ${utc(c.qeIdentityNextUpdate)}`}</Row>
          <Row label="PCK CRL">{`${utc(c.pckCrlThisUpdate)} to ${utc(c.pckCrlNextUpdate)}`}</Row>
          <Row label="Root CA CRL">{`${utc(c.rootCrlThisUpdate)} to ${utc(c.rootCrlNextUpdate)}`}</Row>
        </>
      ) : null}
      <Row label="Verification time">{utc(v.verifiedAt)}</Row>
      {d ? (
        <>
          <Row label="Instance id">
            <Hex value={d.instanceId} />
          </Row>
          <Row label="Key provider">
            {d.keyProvider ? (
              <>
                {d.keyProvider.name} <Hex value={d.keyProvider.id} />
              </>
            ) : (
              <Hex value={d.keyProviderRaw} />
            )}
          </Row>
          <Row label="MRCONFIGID form">{d.mrConfigIdForm}</Row>
          <Row label="Boot events">{d.bootEvents.join(', ') || '—'}</Row>
        </>
      ) : null}
      {v.error ? <Row label="Error">{`${v.error.code}: ${v.error.message}`}</Row> : null}
      <Row label="Checks">
        <ul class="tee-checks" aria-label="Checks">
          {[...v.checks, ...(d?.policyChecks ?? [])].map((check) => (
            <li key={check.id} class={check.ok ? 'tee-yes' : 'tee-no'}>
              <span aria-hidden="true">{check.ok ? '✓' : '✗'}</span> {check.label}
              <span class="visually-hidden">{check.ok ? ' (passed)' : ' (failed)'}</span>
              {check.detail ? <span class="small-text muted"> {check.detail}</span> : null}
            </li>
          ))}
        </ul>
      </Row>
    </dl>
  );
}

function CopyJson({ v }: { v: QuoteVerification }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => setState('idle'), [v]);
  const copy = async (): Promise<void> => {
    try {
      // Public attestation data, not a secret: no auto-clear.
      await navigator.clipboard.writeText(JSON.stringify(v, null, 2));
      setState('copied');
    } catch {
      setState('failed');
    }
  };
  return (
    <button type="button" onClick={() => void copy()}>
      {state === 'copied' ? 'Copied JSON' : state === 'failed' ? 'Copy failed: select the JSON below' : 'Copy JSON'}
    </button>
  );
}

interface TeeCertificateViewProps {
  verification: QuoteVerification;
  /** The one-click fixes for stale collateral (the TEE certificate page); without them the reason is still shown. */
  fixes?: StaleCollateralFixes;
  /** The verification ran at a chosen past time, not now: say so next to the verdict. */
  historical?: boolean;
  /** A sentence the surrounding page already shows (the deploy refusal): the error message is not repeated. */
  omitMessage?: string;
}

/** The result a non-expert reads in ten seconds: the verdict, five rows, and everything else folded away. */
export function TeeCertificateView({ verification: v, fixes, historical, omitMessage }: TeeCertificateViewProps) {
  return (
    <section class="card stack tee-certificate" aria-labelledby="tee-cert-title">
      <h2 id="tee-cert-title">TEE certificate</h2>
      <p
        role="status"
        class={`tee-verdict ${v.verified ? 'tee-verdict-ok' : v.staleCollateral ? 'tee-verdict-stale' : 'tee-verdict-bad'}`}
      >
        {verdictLine(v)}
      </p>
      {historical ? (
        <p class="small-text tee-historical" data-testid="tee-historical">
          {v.verified
            ? `Historical check: verified as of ${utc(v.verifiedAt)}, not now. It shows the quote was genuine then; it does not make it trusted today.`
            : `Historical check: the verdict as of ${utc(v.verifiedAt)}, not now.`}
        </p>
      ) : null}
      {!v.verified &&
      !v.staleCollateral &&
      v.error &&
      v.error.message !== reasonInWords(v.error) &&
      !omitMessage?.includes(v.error.message) ? (
        <p class="small-text muted">{v.error.message}</p>
      ) : null}
      <StaleCollateral v={v} fixes={fixes} />
      <dl class="details tee-rows">
        <Row label="Signed by Intel's root">
          <SignedRow v={v} />
        </Row>
        <Row label="TCB status">
          <StatusRow v={v} />
        </Row>
        <Row label="What code runs">
          <CodeRow v={v} />
        </Row>
        <Row label="Debug mode">
          <DebugRow v={v} />
        </Row>
        <Row label="Checked">
          <CheckedRow v={v} />
        </Row>
      </dl>
      <details>
        <summary>Details</summary>
        <div class="stack">
          <AllFields v={v} />
          <div class="actions">
            <CopyJson v={v} />
          </div>
          <pre class="json tee-json">{JSON.stringify(v, null, 2)}</pre>
        </div>
      </details>
    </section>
  );
}
