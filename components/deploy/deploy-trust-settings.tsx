import { useEffect, useState } from 'preact/hooks';
import { PHALA_PCCS_URL } from '../../lib/attest/pccs-endpoints';
import { saveTrustPins } from '../../lib/deploy/vault-records';
import type { PinnedOsImage, TrustPins } from '../../lib/deploy/types';
import type { PhalaClient } from '../../lib/providers/phala/client';
import type { PhalaKms, PhalaOsImage } from '../../lib/providers/phala/wire';
import { ErrorAlert, Notice } from '../shared/alert';
import { useVaultClient } from '../app/client-context';
import { TEST_ANCHORS_BUILD, type RequestHostAccess } from './deploy-wiring';
import { Field, TextArea } from '../shared/field';
import { useAction } from '../shared/use-action';

const short = (hex: string | null | undefined): string => (hex ? `${hex.slice(0, 12)}…${hex.slice(-6)}` : '—');
const samePin = (a: PinnedOsImage, b: PinnedOsImage): boolean =>
  a.mrtd === b.mrtd && a.rtmr0 === b.rtmr0 && a.rtmr1 === b.rtmr1 && a.rtmr2 === b.rtmr2;

interface TrustSettingsProps {
  cloud: PhalaClient;
  current: { itemId: string; pins: TrustPins } | null;
  onSaved: (saved: { itemId: string; pins: TrustPins }) => void;
  requestPccsAccess?: RequestHostAccess;
}

/**
 * The trust pins: which KMS may hand out the env key and which OS images may boot, chosen by the user from what
 * the provider publishes (the provider is not trusted for this by default: nothing is pinned until clicked), and
 * stored encrypted in the vault.
 */
export function DeployTrustSettings({ cloud, current, onSaved, requestPccsAccess }: TrustSettingsProps) {
  const vault = useVaultClient();
  const [kmsOffers, setKmsOffers] = useState<PhalaKms[] | null>(null);
  const [images, setImages] = useState<PhalaOsImage[] | null>(null);
  const [kms, setKms] = useState<TrustPins['kms'] | null>(current?.pins.kms ?? null);
  const [osImages, setOsImages] = useState<PinnedOsImage[]>(current?.pins.osImages ?? []);
  const [pccsUrl, setPccsUrl] = useState(current?.pins.pccsUrl ?? PHALA_PCCS_URL);
  const [testRoot, setTestRoot] = useState(current?.pins.testRootDerHex ?? '');
  const [saved, setSaved] = useState(false);
  const load = useAction();
  const save = useAction();

  useEffect(() => {
    void load.run(async () => {
      const [k, i] = await Promise.all([cloud.listKms(), cloud.listOsImages()]);
      setKmsOffers(k);
      setImages(i);
    });
  }, [cloud]);

  const pinKms = (k: PhalaKms): void => {
    if (!k.k256Pubkey || !k.caPubkey) return;
    setSaved(false);
    setKms({ id: k.id, slug: k.slug, name: k.name, k256Pubkey: k.k256Pubkey, caPubkey: k.caPubkey });
  };
  const togglePin = (img: PhalaOsImage): void => {
    if (!img.measurement) return;
    const pin: PinnedOsImage = {
      name: img.name,
      version: img.version,
      ...(img.osImageHash ? { osImageHash: img.osImageHash } : {}),
      ...img.measurement,
    };
    setSaved(false);
    setOsImages((list) => (list.some((p) => samePin(p, pin)) ? list.filter((p) => !samePin(p, pin)) : [...list, pin]));
  };

  const submit = async (e: Event): Promise<void> => {
    e.preventDefault();
    if (!kms) return save.setError('Pin a KMS first: it is the only one allowed to hand out the env key.');
    if (osImages.length === 0) return save.setError('Pin at least one OS image.');
    const url = pccsUrl.trim();
    try {
      new URL(url);
    } catch {
      return save.setError('The PCCS URL is not a URL.');
    }
    const root = testRoot.trim().replace(/^0x/i, '').replace(/\s+/g, '').toLowerCase();
    if (root && !/^(?:[0-9a-f]{2})+$/.test(root))
      return save.setError('The test root must be the certificate’s DER as hex.');
    const pins: TrustPins = { kms, osImages, pccsUrl: url, ...(root ? { testRootDerHex: root } : {}) };
    if (requestPccsAccess && !(await requestPccsAccess(url))) {
      return save.setError(`Clawkeep needs permission to contact ${url} for the quote’s collateral.`);
    }
    const result = await save.run(() => saveTrustPins(vault, pins, current?.itemId));
    if (result.ok) {
      setSaved(true);
      onSaved({ itemId: result.value, pins });
    }
  };

  return (
    <form class="card stack" onSubmit={submit} aria-labelledby="deploy-trust-title" noValidate>
      <h2 id="deploy-trust-title">Trust</h2>
      <p class="muted">
        Secrets are sealed only to a CVM whose keys come from the KMS you pin here and that boots one of the OS images
        you pin. Your pins are stored encrypted in the vault.
      </p>
      <h3>Published by the provider: pin them</h3>
      <ErrorAlert message={load.error} />
      {load.busy ? <p class="muted">Loading what the provider publishes…</p> : null}
      {kmsOffers ? (
        <ul class="deploy-offers" aria-label="Published KMS">
          {kmsOffers.map((k) => {
            const pinned = kms?.k256Pubkey === k.k256Pubkey && kms?.caPubkey === k.caPubkey;
            return (
              <li key={k.id}>
                <div class="stack-tight">
                  <strong>{k.name}</strong>
                  <span class="small-text">
                    k256 <code>{short(k.k256Pubkey)}</code> · CA <code>{short(k.caPubkey)}</code>
                  </span>
                </div>
                {pinned ? (
                  <span class="tee-yes">Pinned ✓</span>
                ) : (
                  <button
                    type="button"
                    onClick={() => pinKms(k)}
                    disabled={!k.k256Pubkey || !k.caPubkey}
                    aria-label={`Pin KMS ${k.name}`}
                  >
                    {k.k256Pubkey && k.caPubkey ? 'Pin' : 'No keys published'}
                  </button>
                )}
              </li>
            );
          })}
        </ul>
      ) : null}
      {images ? (
        <ul class="deploy-offers" aria-label="Published OS images">
          {images.map((img) => {
            const pinned = !!img.measurement && osImages.some((p) => samePin(p, { ...img.measurement! }));
            return (
              <li key={`${img.name}-${img.version}`}>
                <div class="stack-tight">
                  <strong>
                    {img.name} {img.version}
                  </strong>
                  {img.isDev ? <span class="badge badge-bad">development image: debug access possible</span> : null}
                  <span class="small-text">
                    MRTD <code>{short(img.measurement?.mrtd)}</code>
                  </span>
                </div>
                <button
                  type="button"
                  onClick={() => togglePin(img)}
                  disabled={!img.measurement}
                  aria-label={`${pinned ? 'Unpin' : 'Pin'} OS image ${img.name} ${img.version}`}
                >
                  {!img.measurement ? 'No measurement published' : pinned ? 'Unpin' : 'Pin'}
                </button>
              </li>
            );
          })}
        </ul>
      ) : null}
      <dl class="details" aria-label="Current pins">
        <dt>Pinned KMS</dt>
        <dd>{kms ? `${kms.name ?? kms.slug ?? kms.id ?? 'KMS'} (k256 ${short(kms.k256Pubkey)})` : 'none'}</dd>
        <dt>Pinned OS images</dt>
        <dd>
          {osImages.length ? osImages.map((o) => `${o.name ?? 'image'} ${o.version ?? ''}`.trim()).join(', ') : 'none'}
        </dd>
      </dl>
      <Field
        label="PCCS URL"
        value={pccsUrl}
        onInput={(v) => {
          setSaved(false);
          setPccsUrl(v);
        }}
        hint="Where the attest worker fetches Intel's collateral for the CVM's quote."
      />
      {TEST_ANCHORS_BUILD ? (
        <TextArea
          label="Test root certificate (hex DER, test builds only)"
          value={testRoot}
          onInput={(v) => {
            setSaved(false);
            setTestRoot(v);
          }}
          rows={2}
          mono
          hint="This build may trust a test root instead of Intel's (e.g. the CVM simulator's). Builds for users refuse it."
        />
      ) : null}
      <ErrorAlert message={save.error} />
      {saved ? <Notice>Trust settings saved in the vault.</Notice> : null}
      <div class="actions">
        <button type="submit" class="primary" disabled={save.busy}>
          {save.busy ? 'Saving…' : 'Save trust settings'}
        </button>
      </div>
    </form>
  );
}
