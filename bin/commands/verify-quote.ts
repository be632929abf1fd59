import { readFileSync } from 'node:fs';
import { parseCommandArgs, UsageError, type Command } from '../command';
import { toErrorInfo } from '../../lib/errors';
import { INTEL_PCS_URL, PHALA_PCCS_URL, normalizePccsUrl } from '../../lib/attest/pccs-endpoints';
import {
  TCB_STATUSES,
  type Collateral,
  type DstackCheckInput,
  type QuoteVerification,
  type TcbStatus,
} from '../../lib/attest/types';

const USAGE = [
  'Usage: clawkeep verify-quote QUOTE_FILE [--collateral FILE | --pccs URL] [--now ISO_TIME] [--allow STATUS,...]',
  '                              [--event-log FILE] [--json]',
  '',
  "Verifies an Intel TDX (v4/v5) or SGX (v3) DCAP quote against Intel's pinned SGX Root CA.",
  '',
  '  QUOTE_FILE          the quote: raw bytes or hex text (e.g. the `quote` of dstack GetQuote)',
  '  --collateral FILE   collateral JSON (dcap-qvl QuoteCollateralV3 form: tcb_info, qe_identity, CRLs, chains)',
  '  --pccs URL          without --collateral, fetch it from this PCCS (Intel PCS API v4): `intel` (default),',
  '                      `phala` or a URL (https; plain http only for loopback). Nothing fetched is trusted.',
  `                      intel = ${INTEL_PCS_URL}, phala = ${PHALA_PCCS_URL}`,
  '  --now ISO_TIME      verification time, e.g. 2025-07-01T00:00:00Z (default: now). Collateral expires.',
  '  --allow S1,S2       also accept these TCB statuses (default: only UpToDate), e.g. SWHardeningNeeded,',
  '                      ConfigurationNeeded, ConfigurationAndSWHardeningNeeded, OutOfDate. Revoked is never accepted.',
  '  --event-log FILE    dstack event log (JSON array, or a GetQuote response with `event_log`): replays RTMR0-3',
  '                      and reports the app identity (compose hash, app id, instance id, key provider)',
  '  --json              print one JSON object (the full verification result) instead of the summary',
  '',
  'Exit codes: 0 verified and accepted by the policy, 1 not verified (the reason is printed), 2 bad arguments or',
  'an unreadable file.',
].join('\n');

interface VerifyQuoteArgs {
  quoteFile: string;
  /** Exactly one of the two is set. */
  collateralFile: string | undefined;
  pccsUrl: string | undefined;
  now: Date;
  allowed: TcbStatus[];
  eventLogFile: string | undefined;
  json: boolean;
}

function parseVerifyQuoteArgs(argv: string[]): VerifyQuoteArgs | null {
  const args = parseCommandArgs({ usage: USAGE }, argv, {
    collateral: { type: 'string' },
    pccs: { type: 'string' },
    now: { type: 'string' },
    allow: { type: 'string' },
    'event-log': { type: 'string' },
    json: { type: 'boolean' },
  });
  if (!args) return null;
  const { values, positionals } = args;
  if (positionals.length === 0) throw new UsageError('missing the quote file');
  if (positionals.length > 1) throw new UsageError(`expected one quote file, got: ${positionals.join(' ')}`);
  if (values.collateral !== undefined && values.pccs !== undefined)
    throw new UsageError('give --collateral or --pccs, not both');
  return {
    quoteFile: positionals[0]!,
    collateralFile: values.collateral,
    pccsUrl: values.collateral === undefined ? parsePccs(values.pccs) : undefined,
    now: parseNow(values.now),
    allowed: parseAllow(values.allow),
    eventLogFile: values['event-log'],
    json: values.json === true,
  };
}

function parseNow(text: string | undefined): Date {
  if (text === undefined) return new Date();
  // An ISO 8601 date-time; a bare date is accepted as midnight UTC. Date.parse alone would take "1" or "May 5".
  if (!/^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) {
    throw new UsageError(`--now must be an ISO time such as 2025-07-01T00:00:00Z, got "${text}"`);
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new UsageError(`--now is not a valid time: "${text}"`);
  return new Date(ms);
}

const PCCS_PRESETS: Record<string, string> = { intel: INTEL_PCS_URL, phala: PHALA_PCCS_URL };

function parsePccs(text: string | undefined): string {
  const url = PCCS_PRESETS[(text ?? 'intel').toLowerCase()] ?? text!;
  try {
    return normalizePccsUrl(url);
  } catch (err) {
    throw new UsageError(`--pccs: ${(err as Error).message}`);
  }
}

function parseAllow(text: string | undefined): TcbStatus[] {
  const allowed: TcbStatus[] = ['UpToDate'];
  if (text === undefined) return allowed;
  for (const raw of text.split(',')) {
    const name = raw.trim();
    if (!name) continue;
    const status = TCB_STATUSES.find((s) => s.toLowerCase() === name.toLowerCase());
    if (!status) throw new UsageError(`--allow: unknown TCB status "${name}" (one of ${TCB_STATUSES.join(', ')})`);
    if (status === 'Revoked') throw new UsageError('--allow: Revoked is never accepted');
    if (!allowed.includes(status)) allowed.push(status);
  }
  return allowed;
}

/** Reads a file the user named; not being able to is a usage problem (exit 2), not a verification failure. */
function readUserFile(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read ${what} ${file}${code ? ` (${code})` : ''}`);
  }
}

/** The event log of `--event-log`: a GetQuote response's `event_log`, or the file's text (the core parses it). */
function eventLogInput(text: string): DstackCheckInput['eventLog'] {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'event_log' in parsed) {
      const inner = parsed.event_log;
      if (typeof inner === 'string') return inner;
      if (Array.isArray(inner)) return JSON.stringify(inner);
    }
  } catch {
    // Not JSON: let the verifier report event_log_malformed with its own message.
  }
  return text;
}

/**
 * A result for input that never reached the verifier (a quote or collateral that does not parse or cannot be
 * fetched), in the same shape as verifyQuote's answer so `--json` consumers see one format.
 */
async function inputFailure(err: unknown, now: Date): Promise<QuoteVerification> {
  const { emptyVerification } = await import('../../lib/attest/report');
  const result = emptyVerification(now);
  result.error = toErrorInfo(err, 'verifier_failed');
  return result;
}

const BODY_NAMES: Record<string, string> = { td10: 'TD report 1.0', td15: 'TD report 1.5', sgx: 'SGX enclave report' };

/** The certificate-style summary: what a person checks first (verdict, root, status, code identity, time). */
export function formatSummary(r: QuoteVerification, allowed: readonly TcbStatus[]): string {
  const lines: string[] = [];
  const row = (label: string, value: string) => lines.push(`  ${label.padEnd(14)}${value}`);
  const tee = r.teeType === 'SGX' ? 'Intel SGX enclave' : r.teeType === 'TDX' ? 'Intel TDX' : 'TEE';
  lines.push(`${tee} quote: ${r.verified ? 'VERIFIED' : 'NOT VERIFIED'}`);
  if (!r.verified && r.error) row('Reason', `${r.error.message} [${r.error.code}]`);
  if (r.valid) {
    row(
      'Signed by',
      r.testTrustAnchor ? 'a TEST root injected by the caller, NOT Intel' : 'Intel SGX Root CA (pinned)',
    );
    // Genuine and current, but the status (or the dstack identity) is outside what was asked for.
    if (!r.verified) row('Genuine', 'yes: every signature, chain, CRL and TCB check passed; rejected by the policy');
  }
  if (r.status) {
    const widened = r.verified && r.status !== 'UpToDate' && allowed.includes(r.status) ? ' (accepted by --allow)' : '';
    row('TCB status', `${r.status}${widened}`);
    row('Advisories', r.advisoryIds.length ? r.advisoryIds.join(', ') : 'none');
  }
  if (r.version !== null) {
    const body = r.bodyType ? `, ${BODY_NAMES[r.bodyType] ?? r.bodyType}` : '';
    row('Quote', `version ${r.version}${body}${r.fmspc ? `, FMSPC ${r.fmspc}` : ''}`);
  }
  if (r.debug !== null) row('Debug', r.debug ? 'YES (debug TD: its memory is readable by the host)' : 'no');
  if (r.mrtd) row('MRTD', r.mrtd);
  r.rtmrs?.forEach((rtmr, i) => row(`RTMR${i}`, rtmr));
  if (r.mrConfigId) row('MRCONFIGID', r.mrConfigId);
  if (r.mrOwner) row('MROWNER', r.mrOwner);
  if (r.enclave) {
    row('MRENCLAVE', r.enclave.mrEnclave);
    row('MRSIGNER', r.enclave.mrSigner);
    row('ISV', `prod id ${r.enclave.isvProdId}, svn ${r.enclave.isvSvn}`);
  }
  if (r.reportData) row('REPORTDATA', r.reportData);
  if (r.dstack) {
    const d = r.dstack;
    const replay = d.replayed ? 'event log replays to RTMR0-3' : 'event log does NOT replay to the quote';
    // The verifier still reads the identity of a signed quote it rejected later: say it proves nothing then.
    row('dstack', r.valid ? replay : `${replay} (quote not verified: for information only)`);
    if (d.composeHash) row('Compose hash', d.composeHash);
    if (d.appId) row('App id', d.appId);
    if (d.instanceId) row('Instance id', d.instanceId);
    if (d.osImageHash) row('OS image', d.osImageHash);
    if (d.keyProvider) row('Key provider', `${d.keyProvider.name} ${d.keyProvider.id}`);
  }
  if (r.collateral) {
    const c = r.collateral;
    row(
      'Collateral',
      `TCB info ${c.tcbInfoIssueDate} .. ${c.tcbInfoNextUpdate} (evaluation #${c.tcbEvaluationDataNumber})`,
    );
    row('', `PCK CRL ${c.pckCrlThisUpdate} .. ${c.pckCrlNextUpdate}`);
  }
  row('Checked at', r.verifiedAt);
  return lines.join('\n');
}

/**
 * The collateral: the --collateral file, or fetched from the PCCS for this quote's platform (FMSPC, PCK CA).
 * Throws AttestError for collateral that does not parse or cannot be fetched.
 */
async function loadCollateral(
  quote: Uint8Array,
  collateralText: string | undefined,
  pccsUrl: string | undefined,
): Promise<Collateral> {
  if (collateralText !== undefined) {
    const { parseCollateralJson } = await import('../../lib/attest/collateral');
    return parseCollateralJson(collateralText);
  }
  const [{ collateralNeeds }, { fetchCollateral }] = await Promise.all([
    import('../../lib/attest/collateral-needs'),
    import('../../lib/attest/collateral-fetch'),
  ]);
  const needs = collateralNeeds(quote);
  console.error(`fetching ${needs.teeType} collateral for FMSPC ${needs.fmspc} (${needs.pckCa} CA) from ${pccsUrl}`);
  // Nothing fetched is trusted: the verifier checks every signature, chain and date of it.
  return fetchCollateral(needs, { pccsUrl: pccsUrl! });
}

/** Parses the quote, gets the collateral and verifies; input that does not parse is a failed verification (exit 1). */
async function verifyInputs(
  quoteBytes: Uint8Array,
  collateralText: string | undefined,
  eventLogText: string | undefined,
  args: VerifyQuoteArgs,
): Promise<QuoteVerification> {
  // Loaded on use: the other subcommands (and --help) need none of the verifier.
  const [{ parseQuoteText }, { verifyQuote }] = await Promise.all([
    import('../../lib/attest/quote-input'),
    import('../../lib/attest/verify'),
  ]);
  let quote: Uint8Array;
  let collateral: Collateral;
  try {
    quote = parseQuoteText(quoteBytes);
    collateral = await loadCollateral(quote, collateralText, args.pccsUrl);
  } catch (err) {
    return inputFailure(err, args.now);
  }
  // verifyQuote never throws for bad input: it answers verified:false with the first failed check.
  return verifyQuote(quote, collateral, {
    now: args.now,
    policy: { allowedStatuses: args.allowed },
    ...(eventLogText !== undefined && { dstack: { eventLog: eventLogInput(eventLogText) } }),
  });
}

export const verifyQuoteCommand: Command = {
  name: 'verify-quote',
  summary: 'verify an Intel TDX/SGX DCAP quote (binary or hex) against collateral',
  usage: USAGE,
  async run(argv) {
    const args = parseVerifyQuoteArgs(argv);
    if (!args) return 0;
    const quoteBytes = new Uint8Array(readUserFile(args.quoteFile, 'quote file'));
    const collateralText = args.collateralFile
      ? readUserFile(args.collateralFile, 'collateral file').toString('utf8')
      : undefined;
    const eventLogText = args.eventLogFile
      ? readUserFile(args.eventLogFile, 'event log file').toString('utf8')
      : undefined;

    const result = await verifyInputs(quoteBytes, collateralText, eventLogText, args);
    console.log(args.json ? JSON.stringify(result, null, 2) : formatSummary(result, args.allowed));
    return result.verified ? 0 : 1;
  },
};
