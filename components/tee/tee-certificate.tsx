import { useId, useState } from 'preact/hooks';
import type { QuoteVerification, VerifyOptions } from '../../lib/attest/types';
import { INTEL_PCS_URL, PHALA_PCCS_URL } from '../../lib/attest/pccs-endpoints';
import type { AttestRunner, AttestVerifyRequest } from '../../workers/attest-api';
import { sharedAttestRunner } from '../../workers/attest-runner';
import { ErrorAlert } from '../shared/alert';
import { Field, TextArea } from '../shared/field';
import { TeeCertificateView } from './tee-certificate-view';
import { isUnreadableInput, parseUtcInput, reasonInWords } from './tee-certificate-wording';

/** Real quotes are ~5 KB and collateral ~20 KB; anything far larger is not one and is not read into memory. */
const MAX_QUOTE_FILE = 1024 * 1024;
const MAX_COLLATERAL_FILE = 4 * 1024 * 1024;

interface LoadedQuoteFile {
  name: string;
  bytes: Uint8Array;
}

function FileInput({
  label,
  accept,
  onFile,
  disabled,
}: {
  label: string;
  accept?: string;
  onFile: (file: File | null) => void;
  disabled?: boolean;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input
        id={id}
        type="file"
        accept={accept}
        disabled={disabled}
        onChange={(e) => {
          const input = e.currentTarget;
          onFile(input.files?.[0] ?? null);
          // Choosing the same file again should load it again.
          input.value = '';
        }}
      />
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
  const [source, setSource] = useState<CollateralSource>('provided');
  const [pccsUrl, setPccsUrl] = useState(PHALA_PCCS_URL);
  const pccsId = useId();
  const [time, setTime] = useState('');
  const [eventLog, setEventLog] = useState('');
  const [expectedCompose, setExpectedCompose] = useState('');
  const [expectedAppId, setExpectedAppId] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [result, setResult] = useState<QuoteVerification | null>(null);
  const timeId = useId();

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
  };

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (busy) return;
    setError(null);
    const quote = quoteFile?.bytes ?? quoteHex.trim();
    if (!quote.length) return setError('Paste the quote as hex, or choose a quote file.');
    let collateralInput: AttestVerifyRequest['collateral'];
    if (source === 'pccs') {
      const url = pccsUrl.trim();
      if (!url) return setError('Enter the PCCS URL to fetch the collateral from.');
      if (requestHostAccess && !(await requestHostAccess(url))) {
        return setError(
          `Clawkeep needs permission to contact ${url} to fetch the collateral. Allow it, or paste the collateral instead.`,
        );
      }
      collateralInput = { pccsUrl: url };
    } else {
      if (!collateral.trim()) return setError('Paste the collateral JSON, or choose a collateral file.');
      collateralInput = collateral;
    }
    let now: Date;
    if (time.trim()) {
      const parsed = parseUtcInput(time);
      if (!parsed) return setError('The verification time is not a date and time (e.g. 2025-07-01T00:00).');
      now = parsed;
    } else {
      now = new Date();
    }
    const options: VerifyOptions = { now };
    const composeHash = expectedCompose.trim().replace(/^0x/i, '');
    const appId = expectedAppId.trim().replace(/^0x/i, '');
    if ((composeHash || appId) && !eventLog.trim()) {
      return setError('Checking an expected compose hash or app id needs the dstack event log.');
    }
    if (composeHash && !/^[0-9a-fA-F]{64}$/.test(composeHash))
      return setError('The expected compose hash must be 64 hex digits (SHA-256).');
    if (appId && !/^[0-9a-fA-F]{40}$/.test(appId)) return setError('The expected app id must be 40 hex digits.');
    if (eventLog.trim()) {
      options.dstack = {
        eventLog: eventLog.trim(),
        policy: { ...(composeHash ? { composeHash } : {}), ...(appId ? { appId } : {}) },
      };
    }

    setBusy(true);
    try {
      const verification = await (runner ?? sharedAttestRunner()).verify({
        quote,
        collateral: collateralInput,
        options,
      });
      if (verification.error && isUnreadableInput(verification)) {
        setResult(null);
        setError(`Cannot verify: ${reasonInWords(verification.error)}. ${verification.error.message}`);
      } else {
        setResult(verification);
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

  return (
    <div class="grid-2 tee">
      <form class="card stack" onSubmit={submit} aria-labelledby="tee-form-title" noValidate>
        <h2 id="tee-form-title">Verify a TEE quote</h2>
        <p class="muted">
          Checks an Intel TDX (or SGX) quote against Intel's signed collateral, in a background worker on this device.
        </p>
        <TextArea label="Quote (hex)" value={quoteHex} onInput={setQuoteHex} rows={4} mono />
        <FileInput label="Quote file" onFile={(f) => void loadQuoteFile(f)} disabled={busy} />
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
            <TextArea label="Collateral (JSON)" value={collateral} onInput={setCollateral} rows={4} mono />
            <FileInput
              label="Collateral file"
              accept=".json,application/json"
              onFile={(f) => void loadCollateralFile(f)}
              disabled={busy}
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
          <label for={timeId}>Verification time</label>
          <input
            id={timeId}
            type="datetime-local"
            step={1}
            value={time}
            onInput={(e) => setTime(e.currentTarget.value)}
            aria-describedby={`${timeId}-hint`}
          />
          <div class="hint" id={`${timeId}-hint`}>
            UTC. Empty means now. Collateral expires, so an older quote needs the time its collateral was valid.
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
        <div class="actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Verifying…' : 'Verify'}
          </button>
        </div>
      </form>
      {result ? <TeeCertificateView verification={result} /> : null}
    </div>
  );
}
