import { toHex } from '../bytes';
import { checkCollateral, parseQeIdentity, parseTcbInfo, type QeIdentity, type TcbInfo } from './collateral';
import { assembleVerification, emptyVerification } from './report';
import { loadTrustRoot, parseAndCheckCrlHex, requireNotRevoked, verifyChain, verifyCrl, type TrustRoot } from './chain';
import { evaluateDstack } from './dstack/index';
import { importRawXY, importSpki, verifyRaw } from './ecdsa';
import { AttestError } from './errors';
import { hexToBytesStrict, sha256 } from './hash';
import { parsePckExtension } from './pck-extension';
import { applyPolicy } from './policy';
import { parseQuote, type ParsedQuote } from './quote';
import { checkEnclaveAttributes, checkTdAttributes } from './td-attributes';
import { convergeStatus, matchPlatformLevel, matchQeIdentity, matchTdxModule, unionAdvisories } from './tcb';
import { classifyStale, COLLATERAL_DATE_CODES } from './staleness';
import { resolveTrustAnchor } from './trust-anchor';
import type { Collateral, QuoteVerification, TcbStatus, VerificationCheck, VerifyOptions } from './types';
import { parseCertificate, type ParsedCertificate, type ParsedCrl } from './x509';
import { parsePemChain } from './pem';

/**
 * Verifies an Intel DCAP quote (TDX v4/v5, SGX v3/v4) against collateral at time `now`, then applies our
 * acceptance policy. Never throws for bad input: the answer says what failed. specs/tdx-verification.md §3.
 */
export async function verifyQuote(
  quote: Uint8Array,
  collateral: Collateral,
  options: VerifyOptions = {},
): Promise<QuoteVerification> {
  const result = await runVerification(quote, collateral, options, true);
  if (result.error && COLLATERAL_DATE_CODES.has(result.error.code)) {
    // Genuine-but-stale or not: verify again with ONLY the collateral documents' dates set aside (certificates keep
    // theirs). That pass never verifies anything: it only tells "Intel-signed, out of date" from "not Intel".
    const { dstack: _dstack, ...rest } = options;
    const diagnosis = await runVerification(quote, collateral, rest, false);
    const stale = classifyStale(result, diagnosis);
    if (stale) {
      result.staleCollateral = stale;
      // The dates as authenticated by the diagnosis (every document's signature checked), for the certificate.
      result.collateral = diagnosis.collateral;
    }
  }
  return result;
}

/**
 * One verification pass. `collateralDates` false skips only the validity dates of TCB info, QE identity and the
 * CRLs; such a pass is for the stale diagnosis alone and its result is never returned as a verdict.
 */
async function runVerification(
  quote: Uint8Array,
  collateral: Collateral,
  options: VerifyOptions,
  collateralDates: boolean,
): Promise<QuoteVerification> {
  const now = options.now === undefined ? new Date() : new Date(options.now);
  const checks = new CheckLog();
  let parsed: ParsedQuote | null = null;
  const result = emptyVerification(Number.isNaN(now.getTime()) ? new Date(0) : now);
  try {
    if (Number.isNaN(now.getTime()))
      throw new AttestError('verifier_failed', 'The verification time is not a valid date.');
    parsed = await checks.run('quote', 'Quote parsed (format, version, Intel QE)', () => parseQuote(quote));
    assembleVerification(result, parsed);
    result.fmspc = readFmspc(parsed);
    await verifyParsed(parsed, collateral, options, now, collateralDates ? now : null, checks, result);
  } catch (err) {
    const error =
      err instanceof AttestError
        ? err
        : new AttestError('verifier_failed', 'The verifier failed unexpectedly on this input.', { cause: err });
    result.verified = false;
    result.error = error.toJSON();
    // Only a quote genuinely signed under the trusted root (rejected later, e.g. no TCB level) says which app it
    // measured; a forged or unsigned quote gets no identity at all.
    const signed = checks.list.some((c) => c.id === 'quote-signature' && c.ok);
    if (signed && options.dstack && result.td && !result.dstack) await readDstackIdentity(result, options);
  }
  result.checks = checks.list;
  return result;
}

/**
 * FMSPC as the quote states it, for display before anything is verified (like MRTD): a failed chain check still
 * shows which platform the quote claims. Not readable → null.
 */
function readFmspc(quote: ParsedQuote): string | null {
  try {
    const leaf = parseCertificate(parsePemChain(quote.pckChainPem, "the quote's PCK chain")[0]!, 'The PCK certificate');
    return leaf.sgxExtension ? parsePckExtension(leaf.sgxExtension).fmspcHex : null;
  } catch {
    return null;
  }
}

class CheckLog {
  readonly list: VerificationCheck[] = [];
  async run<T>(id: string, label: string, fn: () => T | Promise<T>, detail?: (value: T) => string): Promise<T> {
    try {
      const value = await fn();
      this.list.push({ id, label, ok: true, ...(detail ? { detail: detail(value) } : {}) });
      return value;
    } catch (err) {
      const message = err instanceof AttestError ? err.message : 'unexpected error';
      this.list.push({ id, label, ok: false, detail: message });
      throw err;
    }
  }
}

async function verifyParsed(
  quote: ParsedQuote,
  collateralInput: Collateral,
  options: VerifyOptions,
  now: Date,
  /** Time for collateral documents' own dates; null only in the stale diagnosis pass. */
  docNow: Date | null,
  checks: CheckLog,
  result: QuoteVerification,
): Promise<void> {
  const collateral = await checks.run('collateral', 'Collateral readable', () => checkCollateral(collateralInput));
  const anchor = resolveTrustAnchor(options.testTrustAnchor);
  result.testTrustAnchor = anchor.isTest;
  const root = await checks.run(
    'root',
    anchor.isTest ? 'Test root loaded (NOT Intel)' : 'Intel SGX Root CA pinned',
    () => loadTrustRoot(anchor.rootDer, anchor.isTest, now),
  );

  await checks.run(
    'quote-root',
    anchor.isTest ? 'Quote chains to the test root' : "Quote chains to Intel's SGX Root CA",
    () => requireQuoteAnchoredAt(quote, root),
  );

  const rootCrl = await checks.run('root-crl', 'Root CA CRL signed by the root and current', async () => {
    const crl = parseAndCheckCrlHex(collateral.root_ca_crl, 'The root CA CRL');
    await verifyCrl(crl, root.cert, docNow, 'The root CA CRL');
    return crl;
  });

  const expectedTcbId = quote.teeType;
  const tcbInfo = await checks.run('tcb-info', `TCB info signed by Intel, current, for ${quote.teeType}`, () =>
    verifyTcbInfo(collateral, root, rootCrl, now, docNow, expectedTcbId),
  );
  const qeIdentity = await checks.run('qe-identity', 'QE identity signed by Intel, current, for this quote type', () =>
    verifyQeIdentity(collateral, root, rootCrl, now, docNow, quote.teeType),
  );
  result.collateral = {
    tcbInfoIssueDate: tcbInfo.issueDate.toISOString(),
    tcbInfoNextUpdate: tcbInfo.nextUpdate.toISOString(),
    qeIdentityIssueDate: qeIdentity.issueDate.toISOString(),
    qeIdentityNextUpdate: qeIdentity.nextUpdate.toISOString(),
    pckCrlThisUpdate: '',
    pckCrlNextUpdate: '',
    rootCrlThisUpdate: rootCrl.thisUpdate.toISOString(),
    rootCrlNextUpdate: rootCrl.nextUpdate.toISOString(),
    tcbEvaluationDataNumber: tcbInfo.tcbEvaluationDataNumber,
  };

  const [leaf, pckCa] = (await checks.run('pck-chain', "PCK certificate chain to Intel's root, dates checked", () =>
    verifyChain(quote.pckChainPem, root, rootCrl, now, "the quote's PCK chain", 2),
  )) as [ParsedCertificate, ParsedCertificate];
  if (leaf.isCa) throw new AttestError('chain_invalid', 'The PCK leaf certificate is marked as a CA.');

  const pckCrl = await checks.run('pck-crl', 'PCK CRL signed by the PCK CA, current, leaf not revoked', () =>
    verifyPckCrl(collateral, leaf, pckCa, root, rootCrl, now, docNow),
  );
  result.collateral.pckCrlThisUpdate = pckCrl.thisUpdate.toISOString();
  result.collateral.pckCrlNextUpdate = pckCrl.nextUpdate.toISOString();

  if (!leaf.sgxExtension)
    throw new AttestError('certificate_malformed', 'The PCK certificate has no Intel SGX extension.');
  const platform = parsePckExtension(leaf.sgxExtension);
  result.fmspc = platform.fmspcHex;

  await checks.run('qe-report', 'Quoting enclave report signed by the PCK key', async () => {
    const key = await importSpki(leaf.spki, 'qe_report_signature_invalid', 'The PCK certificate');
    if (!(await verifyRaw(key, quote.qeReportSignature, quote.qeReport.raw))) {
      throw new AttestError(
        'qe_report_signature_invalid',
        "The quoting enclave's report is not signed by the PCK certificate's key.",
      );
    }
  });
  await checks.run('qe-binding', 'Attestation key bound to the quoting enclave', async () => {
    const digest = await sha256(quote.attestationKey, quote.qeAuthData);
    const reportData = quote.qeReport.reportData;
    const ok = digest.every((b, i) => reportData[i] === b) && reportData.subarray(32).every((b) => b === 0);
    if (!ok)
      throw new AttestError(
        'qe_report_binding_invalid',
        'The attestation key is not the one the quoting enclave vouched for.',
      );
  });
  const qeLevel = await checks.run(
    'qe-tcb',
    "Quoting enclave matches Intel's QE identity",
    () => matchQeIdentity(qeIdentity, quote.qeReport),
    (l) => l.status,
  );
  await checks.run('quote-signature', 'Quote signed by the attestation key', async () => {
    const key = await importRawXY(quote.attestationKey, 'quote_signature_invalid', 'The attestation key');
    if (!(await verifyRaw(key, quote.quoteSignature, quote.signedRegion))) {
      throw new AttestError(
        'quote_signature_invalid',
        'The quote signature does not verify: the report or header was changed.',
      );
    }
  });

  await checks.run('fmspc', 'Platform (FMSPC, PCE id) matches the TCB info', () => {
    if (!platform.fmspc.every((b, i) => b === tcbInfo.fmspc[i])) {
      throw new AttestError(
        'fmspc_mismatch',
        `The platform FMSPC ${platform.fmspcHex} does not match the TCB info's ${toHex(tcbInfo.fmspc).toUpperCase()}.`,
      );
    }
    if (!platform.pceId.every((b, i) => b === tcbInfo.pceId[i])) {
      throw new AttestError(
        'pceid_mismatch',
        `The PCE id ${toHex(platform.pceId)} does not match the TCB info's ${toHex(tcbInfo.pceId)}.`,
      );
    }
  });
  const platformLevel = await checks.run(
    'tcb-level',
    'Platform TCB level found',
    () => matchPlatformLevel(tcbInfo, platform, quote.td),
    (l) => l.status,
  );
  let status: TcbStatus = platformLevel.status;
  const advisoryLists = [platformLevel.advisoryIds];
  if (quote.td) {
    const td = quote.td;
    const module = await checks.run(
      'tdx-module',
      'TDX module identity matches',
      () => matchTdxModule(tcbInfo, td),
      (m) => `${m.identity.id}${m.level ? ` ${m.level.status}` : ''}`,
    );
    if (module.level) {
      status = convergeStatus(status, module.level.status);
      advisoryLists.push(module.level.advisoryIds);
    }
  }
  status = convergeStatus(status, qeLevel.status);
  advisoryLists.push(qeLevel.advisoryIds);
  result.status = status;
  result.advisoryIds = unionAdvisories(...advisoryLists);
  if (status === 'Revoked') throw new AttestError('tcb_revoked', "Intel lists this platform's TCB as revoked.");

  await checks.run(
    'attributes',
    quote.td ? 'TD is not in debug mode; attributes allowed' : 'Enclave is not in debug mode',
    () => (quote.td ? checkTdAttributes(quote.td, options.policy) : checkEnclaveAttributes(quote.enclave!)),
  );
  result.valid = true;
  await checks.run('policy', 'Acceptance policy', () => applyPolicy(status, result.advisoryIds, options.policy));

  if (options.dstack) {
    const outcome = await readDstackIdentity(result, options);
    checks.list.push({
      id: 'dstack',
      label: 'dstack event log replays and the app identity matches',
      ok: outcome.error === null,
      ...(outcome.error ? { detail: outcome.error.message } : {}),
    });
    if (outcome.error) throw outcome.error;
  }
  result.verified = true;
}

/**
 * The dstack identity of the TD report. After a failed verification of a signed quote it is still read for
 * display (the UI marks it unverified); it never turns a failed quote into a verified one.
 */
async function readDstackIdentity(
  result: QuoteVerification,
  options: VerifyOptions,
): Promise<{ error: AttestError | null }> {
  if (!options.dstack) return { error: null };
  if (!result.td)
    return { error: new AttestError('event_log_malformed', 'A dstack event log applies to TDX quotes only.') };
  try {
    const outcome = await evaluateDstack(result.td, options.dstack);
    result.dstack = outcome.identity;
    return { error: outcome.error };
  } catch (err) {
    return {
      error:
        err instanceof AttestError ? err : new AttestError('event_log_malformed', 'The event log could not be read.'),
    };
  }
}

/**
 * A quote whose own chain ends at a different self-signed root (a test or foreign CA) is refused up front with
 * that reason, instead of surfacing later as an unrelated CRL or chain error.
 */
function requireQuoteAnchoredAt(quote: ParsedQuote, root: TrustRoot): void {
  const ders = parsePemChain(quote.pckChainPem, "the quote's PCK chain");
  const last = parseCertificate(ders[ders.length - 1]!, "the last certificate of the quote's PCK chain");
  const selfIssued = last.subject.length === last.issuer.length && last.subject.every((b, i) => b === last.issuer[i]);
  const isRoot = last.der.length === root.cert.der.length && last.der.every((b, i) => b === root.cert.der[i]);
  if (selfIssued && !isRoot) {
    throw new AttestError(
      'untrusted_root',
      `The quote's certificate chain ends at "${last.subjectCn}", not at ${root.isTest ? 'the test root' : "Intel's SGX Root CA"}: it was not issued by ${root.isTest ? 'it' : 'Intel'}.`,
    );
  }
}

async function verifySignedJson(
  text: string,
  signatureHex: string,
  chainPem: string,
  root: TrustRoot,
  rootCrl: ParsedCrl,
  now: Date,
  what: string,
): Promise<void> {
  const [signer] = await verifyChain(chainPem, root, rootCrl, now, `the ${what} issuer chain`, 1);
  const signature = hexToBytesStrict(signatureHex, 64, `The ${what} signature`, 'collateral_malformed');
  const key = await importSpki(signer!.spki, 'collateral_signature_invalid', `The ${what} signer`);
  // The signature covers the exact bytes Intel served; re-serialized JSON would not verify.
  if (!(await verifyRaw(key, signature, new TextEncoder().encode(text)))) {
    throw new AttestError(
      'collateral_signature_invalid',
      `The ${what} signature does not verify: the document was changed.`,
    );
  }
}

function checkDocumentDates(issue: Date, next: Date, now: Date | null, what: string): void {
  if (now === null) return;
  const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');
  if (now < issue)
    throw new AttestError(
      'collateral_not_yet_valid',
      `The ${what} is issued ${iso(issue)}, after the verification time ${iso(now)}.`,
    );
  if (now > next)
    throw new AttestError('collateral_expired', `The ${what} expired at ${iso(next)} (checked at ${iso(now)}).`);
}

async function verifyTcbInfo(
  c: Collateral,
  root: TrustRoot,
  rootCrl: ParsedCrl,
  now: Date,
  docNow: Date | null,
  teeType: 'TDX' | 'SGX',
): Promise<TcbInfo> {
  await verifySignedJson(c.tcb_info, c.tcb_info_signature, c.tcb_info_issuer_chain, root, rootCrl, now, 'TCB info');
  const info = parseTcbInfo(c.tcb_info);
  if (info.id !== teeType) {
    throw new AttestError(
      'collateral_mismatch',
      `The TCB info is for ${info.id} but the quote is ${teeType}: wrong collateral type.`,
    );
  }
  if (teeType === 'TDX' ? info.version < 3 : info.version < 2) {
    throw new AttestError('collateral_mismatch', `TCB info version ${info.version} is too old for a ${teeType} quote.`);
  }
  checkDocumentDates(info.issueDate, info.nextUpdate, docNow, 'TCB info');
  return info;
}

async function verifyQeIdentity(
  c: Collateral,
  root: TrustRoot,
  rootCrl: ParsedCrl,
  now: Date,
  docNow: Date | null,
  teeType: 'TDX' | 'SGX',
): Promise<QeIdentity> {
  await verifySignedJson(
    c.qe_identity,
    c.qe_identity_signature,
    c.qe_identity_issuer_chain,
    root,
    rootCrl,
    now,
    'QE identity',
  );
  const identity = parseQeIdentity(c.qe_identity);
  const expected = teeType === 'TDX' ? 'TD_QE' : 'QE';
  if (identity.id !== expected) {
    throw new AttestError(
      'collateral_mismatch',
      `The QE identity is "${identity.id}" but a ${teeType} quote needs "${expected}": wrong collateral type.`,
    );
  }
  if (identity.version < 2)
    throw new AttestError('collateral_mismatch', `QE identity version ${identity.version} is not supported.`);
  checkDocumentDates(identity.issueDate, identity.nextUpdate, docNow, 'QE identity');
  return identity;
}

async function verifyPckCrl(
  c: Collateral,
  leaf: ParsedCertificate,
  pckCa: ParsedCertificate,
  root: TrustRoot,
  rootCrl: ParsedCrl,
  now: Date,
  docNow: Date | null,
): Promise<ParsedCrl> {
  const crl = parseAndCheckCrlHex(c.pck_crl, 'The PCK CRL');
  // The CRL must come from the CA that issued this leaf (Platform vs Processor), not just any Intel CA.
  await verifyCrl(crl, pckCa, docNow, 'The PCK CRL');
  const [crlIssuer] = await verifyChain(c.pck_crl_issuer_chain, root, rootCrl, now, 'the PCK CRL issuer chain', 1);
  if (!crlIssuer!.spki.every((b, i) => b === pckCa.spki[i]) || crlIssuer!.spki.length !== pckCa.spki.length) {
    throw new AttestError(
      'crl_invalid',
      "The PCK CRL issuer chain does not name the CA that issued the quote's PCK certificate.",
    );
  }
  requireNotRevoked(leaf, crl, 'The PCK certificate');
  return crl;
}
