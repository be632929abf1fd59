import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { QuoteVerification, VerifyOptions } from '../../lib/attest/types';
import { INTEL_PCS_URL, PHALA_PCCS_URL } from '../../lib/attest/pccs-endpoints';
import type { AttestRunner, AttestVerifyRequest } from '../../workers/attest-api';
import { sharedAttestRunner } from '../../workers/attest-runner';
import { ErrorAlert } from '../shared/alert';
import { Field, TextArea } from '../shared/field';
import { TeeCertificateView } from './tee-certificate-view';
import { isUnreadableInput, parseUtcInput, reasonInWords, utcInputValue } from './tee-certificate-wording';
import type { StaleCollateralFixes } from './tee-stale-collateral';

/** Real quotes are ~5 KB and collateral ~20 KB; anything far larger is not one and is not read into memory. */
const MAX_QUOTE_FILE = 1024 * 1024;
const MAX_COLLATERAL_FILE = 4 * 1024 * 1024;
/** A verification time further than this from the clock is labelled a historical check. */
const HISTORICAL_AFTER_MS = 5 * 60 * 1000;

interface LoadedQuoteFile {
  name: string;
  bytes: Uint8Array;
}

/**
 * A file picker that keeps showing what was chosen. The native input is cleared after each choice (so the same file
 * can be chosen again) and would then read "No file chosen"; it is visually hidden and the name comes from state,
 * so it survives re-renders and the field being remounted.
 */
function FileInput({
  label,
  accept,
  onFile,
  disabled,
  chosen,
}: {
  label: string;
  accept?: string;
  onFile: (file: File | null) => void;
  disabled?: boolean;
  /** What the page holds from this field ("quote.bin, 5006 bytes"), or null. */
  chosen: string | null;
}) {
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <div class="file-pick">
        <input
          ref={input}
          id={id}
          type="file"
          class="file-pick-input"
          accept={accept}
          disabled={disabled}
          aria-describedby={`${id}-chosen`}
          onChange={(e) => {
            const el = e.currentTarget;
            onFile(el.files?.[0] ?? null);
            // Choosing the same file again should load it again.
            el.value = '';
          }}
        />
        <button
          type="button"
          class="small"
          aria-hidden="true"
          tabIndex={-1}
          disabled={disabled}
          onClick={() => input.current?.click()}
        >
          Choose file…
        </button>
        <span id={`${id}-chosen`} class={chosen ? 'file-pick-name' : 'file-pick-name muted'}>
          {chosen ? `Chosen: ${chosen}` : 'No file chosen'}
        </span>
      </div>
    </div>
  );
}

interface TeeCertificateProps {
  /** Runs the verification in the attest worker; tests may pass another runner. */
  runner?: AttestRunner;
  /**
   * Asks the browser for access to a PCCS origin before fetching from it (the extension's optional host
   * permissions). Resolves false when the user declines. Absent: fetch directly (web vault, loopback).
   */
  requestHostAccess?: (url: string) => Promise<boolean>;
}

type CollateralSource = 'provided' | 'pccs';
const PCCS_PRESETS = [
  { label: 'Phala PCCS', url: PHALA_PCCS_URL },
  { label: 'Intel PCS', url: INTEL_PCS_URL },
];

/**
 * "TEE certificate" tab: paste or upload a TDX/SGX quote and its collateral, and read the verdict. The page never
 * verifies: it hands the raw inputs to the attest worker (parsing included) and renders the plain result.
 */
export function TeeCertificate({ runner, requestHostAccess }: TeeCertificateProps) {
  const [quoteHex, setQuoteHex] = useState('');
  const [quoteFile, setQuoteFile] = useState<LoadedQuoteFile | null>(null);
  const [collateral, setCollateral] = useState('');
  const [collateralFile, setCollateralFile] = useState<string | null>(null);
  const [source, setSource] = useState<CollateralSource>('provided');
  const [pccsUrl, setPccsUrl] = useState(PHALA_PCCS_URL);
  const pccsId = useId();
  const [time, setTime] = useState('');
  const [eventLog, setEventLog] = useState('');
  const [expectedCompose, setExpectedCompose] = useState('');
  const [expectedAppId, setExpectedAppId] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<{ verification: QuoteVerification; historical: boolean } | null>(null);
  const timeId = useId();
  const certificate = useRef<HTMLDivElement>(null);

  // On a narrow screen the certificate renders below the form: bring it into view once it arrives.
  useEffect(() => {
    if (result) certificate.current?.scrollIntoView?.({ block: 'nearest' });
  }, [result]);

  const loadQuoteFile = async (file: File | null): Promise<void> => {
    if (!file) return;
    setError(null);
    if (file.size > MAX_QUOTE_FILE) return setError(`"${file.name}" is too large to be a quote (over 1 MiB).`);
    setQuoteFile({ name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) });
  };

  const loadCollateralFile = async (file: File | null): Promise<void> => {
    if (!file) return;
    setError(null);
    if (file.size > MAX_COLLATERAL_FILE) return setError(`"${file.name}" is too large to be collateral (over 4 MiB).`);
    setCollateral(await file.text());
    setCollateralFile(`${file.name}, ${file.size} bytes`);
  };

  /**
   * Reads the form into a request; `override` is what a one-click fix changes (the collateral source or the time)
   * without waiting for the form state to update. Returns an error message for input the person must fix.
   */
  const buildRequest = async (override: {
    source?: CollateralSource;
    time?: string;
  }): Promise<{ request: AttestVerifyRequest; historical: boolean } | { error: string }> => {
    const quote = quoteFile?.bytes ?? quoteHex.trim();
    if (!quote.length) return { error: 'Paste the quote as hex, or choose a quote file.' };
    let collateralInput: AttestVerifyRequest['collateral'];
    if ((override.source ?? source) === 'pccs') {
      const url = pccsUrl.trim();
      if (!url) return { error: 'Enter the PCCS URL to fetch the collateral from.' };
      if (requestHostAccess && !(await requestHostAccess(url))) {
        return {
          error: `Clawkeep needs permission to contact ${url} to fetch the collateral. Allow it, or paste the collateral instead.`,
        };
      }
      collateralInput = { pccsUrl: url };
    } else {
      if (!collateral.trim()) return { error: 'Paste the collateral JSON, or choose a collateral file.' };
      collateralInput = collateral;
    }
    const timeText = override.time ?? time;
    let now = new Date();
    let historical = false;
    if (timeText.trim()) {
      const parsed = parseUtcInput(timeText);
      if (!parsed.ok) return { error: parsed.error };
      // A time more than a few minutes from the clock is a check of the past (or future), not of now: labelled.
      historical = Math.abs(parsed.date.getTime() - now.getTime()) > HISTORICAL_AFTER_MS;
      now = parsed.date;
    }
    const options: VerifyOptions = { now };
    const composeHash = expectedCompose.trim().replace(/^0x/i, '');
    const appId = expectedAppId.trim().replace(/^0x/i, '');
    if ((composeHash || appId) && !eventLog.trim()) {
      return { error: 'Checking an expected compose hash or app id needs the dstack event log.' };
    }
    if (composeHash && !/^[0-9a-fA-F]{64}$/.test(composeHash))
      return { error: 'The expected compose hash must be 64 hex digits (SHA-256).' };
    if (appId && !/^[0-9a-fA-F]{40}$/.test(appId)) return { error: 'The expected app id must be 40 hex digits.' };
    if (eventLog.trim()) {
      options.dstack = {
        eventLog: eventLog.trim(),
        policy: { ...(composeHash ? { composeHash } : {}), ...(appId ? { appId } : {}) },
      };
    }
    return { request: { quote, collateral: collateralInput, options }, historical };
  };

  const verify = async (override: { source?: CollateralSource; time?: string } = {}): Promise<void> => {
    if (busy) return;
    setError(null);
    setBusy(true);
    try {
      const built = await buildRequest(override);
      if ('error' in built) return setError(built.error);
      const verification = await (runner ?? sharedAttestRunner()).verify(built.request);
      if (verification.error && isUnreadableInput(verification)) {
        setResult(null);
        setError(`Cannot verify: ${reasonInWords(verification.error)}. ${verification.error.message}`);
      } else {
        setResult({ verification, historical: built.historical });
      }
    } catch (err) {
      // Runners resolve in every case; reaching this is a bug, but the page must stay usable.
      console.error(err);
      setResult(null);
      setError('The verifier could not be reached. Reload the page and try again.');
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: Event): void => {
    e.preventDefault();
    void verify();
  };

  // The two fixes for stale collateral, one click each (issue 15): fresh collateral from the PCCS at the same time,
  // or the same collateral at a time inside its window (shown in the time field, labelled historical).
  const fixes: StaleCollateralFixes = {
    busy,
    ...(pccsUrl.trim()
      ? {
          fetchFresh: {
            pccsUrl: pccsUrl.trim(),
            run: () => {
              setSource('pccs');
              void verify({ source: 'pccs' });
            },
          },
        }
      : {}),
    verifyAt: (iso: string) => {
      const value = utcInputValue(iso);
      setTime(value);
      void verify({ time: value });
    },
  };

  return (
    <div class="grid-2 tee">
      <form class="card stack tee-form" onSubmit={submit} aria-labelledby="tee-form-title" noValidate>
        <h2 id="tee-form-title">Verify a TEE quote</h2>
        <p class="muted">
          Checks an Intel TDX (or SGX) quote against Intel's signed collateral, in a background worker on this device.
        </p>
        <TextArea label="Quote (hex)" value={quoteHex} onInput={setQuoteHex} rows={4} mono />
        <FileInput
          label="Quote file"
          onFile={(f) => void loadQuoteFile(f)}
          disabled={busy}
          chosen={quoteFile ? `${quoteFile.name}, ${quoteFile.bytes.length} bytes` : null}
        />
        {quoteFile ? (
          <div class="actions small-text">
            <span>
              Using <strong>{quoteFile.name}</strong> ({quoteFile.bytes.length} bytes) instead of the pasted hex.
            </span>
            <button type="button" onClick={() => setQuoteFile(null)}>
              Use pasted hex
            </button>
          </div>
        ) : null}
        <fieldset class="stack">
          <legend>Collateral</legend>
          <label>
            <input
              type="radio"
              name="collateral-source"
              checked={source === 'provided'}
              onChange={() => setSource('provided')}
            />{' '}
            Paste or upload
          </label>
          <label>
            <input
              type="radio"
              name="collateral-source"
              checked={source === 'pccs'}
              onChange={() => setSource('pccs')}
            />{' '}
            Fetch from a PCCS
          </label>
        </fieldset>
        {source === 'provided' ? (
          <>
            <TextArea
              label="Collateral (JSON)"
              value={collateral}
              onInput={(value) => {
                setCollateral(value);
                // Edited by hand: it is no longer the file's content.
                setCollateralFile(null);
              }}
              rows={4}
              mono
            />
            <FileInput
              label="Collateral file"
              accept=".json,application/json"
              onFile={(f) => void loadCollateralFile(f)}
              disabled={busy}
              chosen={collateralFile}
            />
          </>
        ) : (
          <div class="field">
            <label for={pccsId}>PCCS URL</label>
            <input
              id={pccsId}
              type="url"
              value={pccsUrl}
              onInput={(e) => setPccsUrl(e.currentTarget.value)}
              aria-describedby={`${pccsId}-hint`}
              class="mono"
            />
            <div class="actions small-text">
              {PCCS_PRESETS.map((p) => (
                <button type="button" key={p.url} onClick={() => setPccsUrl(p.url)}>
                  {p.label}
                </button>
              ))}
            </div>
            <div class="hint" id={`${pccsId}-hint`}>
              Intel's signed TCB info, QE identity and CRLs for this quote's platform are fetched in the worker and
              cached on this device until they expire. They are checked like pasted collateral.
            </div>
          </div>
        )}
        <div class="field">
          <label for={timeId}>Verification time (UTC)</label>
          <input
            id={timeId}
            type="text"
            inputMode="text"
            autoComplete="off"
            spellcheck={false}
            placeholder="2025-07-01T00:00:00Z"
            value={time}
            onInput={(e) => setTime(e.currentTarget.value)}
            aria-describedby={`${timeId}-hint`}
            class="mono"
          />
          <div class="hint" id={`${timeId}-hint`}>
            ISO 8601 in UTC, e.g. 2025-07-01T00:00:00Z. Empty means now. Collateral expires, so an older quote needs a
            time when its collateral was valid.
          </div>
        </div>
        <TextArea
          label="Event log (JSON)"
          value={eventLog}
          onInput={setEventLog}
          rows={3}
          mono
          hint="Optional: dstack's event_log, to show which app and OS image run inside."
        />
        <div class="grid-2">
          <Field
            label="Expected compose hash"
            value={expectedCompose}
            onInput={setExpectedCompose}
            hint="Optional: SHA-256 of the app-compose.json you deployed."
          />
          <Field label="Expected app id" value={expectedAppId} onInput={setExpectedAppId} hint="Optional." />
        </div>
        <ErrorAlert message={error} />
        {/* Sticky: Verify stays on screen while the long form scrolls, at 360 px as at 1280 px. */}
        <div class="actions tee-form-submit">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Verifying…' : 'Verify'}
          </button>
        </div>
      </form>
      {result ? (
        <div ref={certificate}>
          <TeeCertificateView verification={result.verification} historical={result.historical} fixes={fixes} />
        </div>
      ) : null}
    </div>
  );
}
