/**
 * Regenerates the known-answer vector files in this folder. Run by hand (`npx tsx test/vectors/generate.ts`) only
 * when a format deliberately changes; tests never run it. External vectors are typed in from their specs; the
 * Argon2id and PBKDF2 extras are computed by independent implementations (the reference `argon2` CLI, OpenSSL via
 * node:crypto), never by the code under test. Our own format vectors are fixed inputs -> fixed bytes.
 */
import { execFileSync } from 'node:child_process';
import { hkdfSync, pbkdf2Sync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { toHex, utf8Encode } from '../../lib/bytes';
import { encodeVaultHeader, sealVaultHeader } from '../../lib/format/vault-header';
import { sealItem } from '../../lib/format/item-envelope';
import { sealBackupFile } from '../../lib/format/backup-file';
import { encodeRecoveryWrap, sealRecoveryWrap } from '../../lib/format/recovery-wrap';
import type { KdfParams } from '../../lib/crypto/kdf-params';

const dir = new URL('.', import.meta.url);
const write = (name: string, data: unknown) => writeFileSync(new URL(name, dir), JSON.stringify(data, null, 2) + '\n');
const fill = (n: number, b: number) => toHex(new Uint8Array(n).fill(b));
const seq = (n: number, start: number) => toHex(Uint8Array.from({ length: n }, (_, i) => (start + i) & 0xff));

// Argon2id: reference CLI (phc-winner-argon2, Debian package `argon2`), raw output.
function argon2Cli(password: string, salt: string, t: number, mKiB: number, p: number, len: number): string {
  return execFileSync('argon2', [salt, '-id', '-t', String(t), '-k', String(mKiB), '-p', String(p), '-l', String(len), '-r'], {
    input: password,
  }).toString().trim();
}
const argonCases = [
  { password: 'correct horse battery staple', salt: 'clawkeep-salt-01', t: 2, m: 16384, p: 1 },
  { password: 'correct horse battery staple', salt: 'clawkeep-salt-01', t: 3, m: 65536, p: 4 },
  { password: 'pässwörd ☃ 🔑', salt: '0123456789abcdef', t: 3, m: 19456, p: 2 },
];
write('argon2id.json', {
  description: 'Argon2id (v0x13) known answers. rfc9106 uses secret and associated data; the others have neither.',
  rfc9106: {
    source: 'RFC 9106 section 5.3',
    password: fill(32, 1), salt: fill(16, 2), secret: fill(8, 3), associatedData: fill(12, 4),
    iterations: 3, memoryKiB: 32, parallelism: 4, tag: '0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659',
  },
  vectors: argonCases.map((c) => ({
    source: 'argon2 reference CLI 20190702 (Debian)',
    password: toHex(utf8Encode(c.password)), salt: toHex(utf8Encode(c.salt)),
    iterations: c.t, memoryKiB: c.m, parallelism: c.p, tag: argon2Cli(c.password, c.salt, c.t, c.m, c.p, 32),
  })),
});

write('pbkdf2-sha256.json', {
  description: 'PBKDF2-HMAC-SHA256 known answers.',
  vectors: [
    { source: 'RFC 7914 section 11', password: toHex(utf8Encode('passwd')), salt: toHex(utf8Encode('salt')), iterations: 1,
      dkLen: 64, dk: '55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783' },
    { source: 'RFC 7914 section 11', password: toHex(utf8Encode('Password')), salt: toHex(utf8Encode('NaCl')), iterations: 80000,
      dkLen: 64, dk: '4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d' },
    { source: 'OpenSSL via node:crypto', password: toHex(utf8Encode('correct horse battery staple')), salt: seq(16, 0x10), iterations: 600000,
      dkLen: 32, dk: pbkdf2Sync('correct horse battery staple', Buffer.from(seq(16, 0x10), 'hex'), 600000, 32, 'sha256').toString('hex') },
  ],
});

write('xchacha20poly1305.json', {
  description: 'XChaCha20-Poly1305 AEAD known answer; ciphertext includes the 16-byte tag at the end.',
  vectors: [{
    source: 'draft-irtf-cfrg-xchacha-03 appendix A.3.1',
    key: seq(32, 0x80), nonce: seq(24, 0x40), aad: '50515253c0c1c2c3c4c5c6c7',
    plaintext: toHex(utf8Encode("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")),
    ciphertext: 'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52ec0875924c1c7987947deafd8780acf49',
  }],
});

// Our formats: fixed inputs -> fixed bytes. The KEK is given directly (the KDF has its own vectors).
const vaultId = seq(16, 0xa0);
const vaultKey = seq(32, 0x20);
const kek = seq(32, 0x60);
const headerCases: { kdf: KdfParams; salt: string; nonce: string }[] = [
  { kdf: { algorithm: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 4 }, salt: seq(16, 0x30), nonce: seq(24, 0x01) },
  { kdf: { algorithm: 'pbkdf2-sha256', iterations: 600000 }, salt: seq(16, 0x31), nonce: seq(24, 0x02) },
];
const h = (s: string) => Uint8Array.from(Buffer.from(s, 'hex'));
write('vault-header.json', {
  description: 'CKVH v1 vault headers: the vault key wrapped under a given KEK.',
  vectors: headerCases.map((c) => ({
    vaultId, kdf: c.kdf, salt: c.salt, nonce: c.nonce, kek, vaultKey,
    bytes: toHex(encodeVaultHeader(sealVaultHeader({ vaultId: h(vaultId), kdf: c.kdf, salt: h(c.salt), kek: h(kek), vaultKey: h(vaultKey), nonce: h(c.nonce) }))),
  })),
});

const itemCases = [
  { id: '3f1c2d4e-0000-4a5b-8c6d-7e8f90a1b2c3', kind: 'secret' as const, nonce: seq(24, 0x11),
    plaintext: JSON.stringify({ name: 'GitHub token', value: 'ghp_example', notes: '', tags: ['dev'], expiresAt: null }) },
  { id: 'a1b2c3d4-1111-4222-8333-944455566677', kind: 'agentConfig' as const, nonce: seq(24, 0x12),
    plaintext: JSON.stringify({ name: 'research-bot', model: 'gpt-5', providerKeys: [{ key: 'OPENAI_API_KEY', value: 'sk-test' }], env: [], json: '' }) },
];
write('item-envelope.json', {
  description: 'CKIE v1 item envelopes; associated data binds tag, version, vault id, kind id and item id.',
  vectors: itemCases.map((c) => ({
    vaultId, vaultKey, id: c.id, kind: c.kind, nonce: c.nonce, plaintext: toHex(utf8Encode(c.plaintext)),
    bytes: toHex(sealItem(h(vaultKey), { vaultId: h(vaultId), id: c.id, kind: c.kind }, utf8Encode(c.plaintext), h(c.nonce))),
  })),
});

const backupPlaintext = JSON.stringify({ format: 'clawkeep-backup-items', version: 1, exportedAt: '2026-11-23T12:00:00.000Z', items: [] });
const backupKdf: KdfParams = { algorithm: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 4 };
write('backup-file.json', {
  description: 'CKBK v1 backup file around an (empty) item payload, under a given KEK.',
  vectors: [{
    kdf: backupKdf, salt: seq(16, 0x40), nonce: seq(24, 0x03), kek, plaintext: toHex(utf8Encode(backupPlaintext)),
    bytes: toHex(sealBackupFile({ kdf: backupKdf, salt: h(seq(16, 0x40)), kek: h(kek), plaintext: utf8Encode(backupPlaintext), nonce: h(seq(24, 0x03)) })),
  }],
});
// Recovery kit: BIP39 words typed in from the Trezor reference vectors (256-bit entropy, English); the kit key by
// node:crypto's HKDF (not ours); CKRW bytes from fixed inputs.
const recoverySalt = seq(16, 0x50);
const recoveryKey = (entropyHex: string) => Buffer.from(hkdfSync('sha256', Buffer.from(entropyHex, 'hex'), Buffer.from(recoverySalt, 'hex'), 'clawkeep/v1/recovery-kek', 32)).toString('hex');
const bip39Cases = [
  { entropy: fill(32, 0x00), words: `${'abandon '.repeat(23)}art` },
  { entropy: fill(32, 0x7f), words: 'legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth title' },
  { entropy: fill(32, 0xff), words: `${'zoo '.repeat(23)}vote` },
];
const wrapKek = recoveryKey(fill(32, 0x7f));
write('recovery-kit.json', {
  description: 'Recovery kit: 24 BIP39 words <-> 256-bit entropy (Trezor reference vectors), the kit key HKDF-SHA256(entropy, salt, "clawkeep/v1/recovery-kek") computed by node:crypto, and a CKRW v1 recovery wrap of the vault key under that key.',
  words: bip39Cases.map((c) => ({ source: 'trezor/python-mnemonic vectors.json (english)', entropy: c.entropy, words: c.words, salt: recoverySalt, kek: recoveryKey(c.entropy) })),
  wrap: {
    vaultId, kitId: seq(16, 0x60), createdAt: 1795435200000, salt: recoverySalt, nonce: seq(24, 0x70), kek: wrapKek, vaultKey,
    bytes: toHex(encodeRecoveryWrap(sealRecoveryWrap({ vaultId: h(vaultId), kitId: h(seq(16, 0x60)), createdAt: 1795435200000, salt: h(recoverySalt), kek: h(wrapKek), vaultKey: h(vaultKey), nonce: h(seq(24, 0x70)) }))),
  },
});
console.log('vectors written');
