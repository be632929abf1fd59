import { createDecipheriv, createPrivateKey, createPublicKey, diffieHellman } from 'node:crypto';

/**
 * Independent reference for the dstack env envelope, written from specs/sealing-to-cvm.md §1.4 with node:crypto
 * only (X25519 KeyObjects + AES-256-GCM), nothing from lib/seal: eph_pk(32) ‖ iv(12) ‖ ct ‖ tag(16).
 */
export function referenceDecrypt(blobHex: string, recipientPrivateHex: string): string {
  const blob = Buffer.from(blobHex, 'hex');
  const pkcs8Prefix = Buffer.from('302e020100300506032b656e04220420', 'hex');
  const spkiPrefix = Buffer.from('302a300506032b656e032100', 'hex');
  const privateKey = createPrivateKey({
    key: Buffer.concat([pkcs8Prefix, Buffer.from(recipientPrivateHex, 'hex')]),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKey = createPublicKey({
    key: Buffer.concat([spkiPrefix, blob.subarray(0, 32)]),
    format: 'der',
    type: 'spki',
  });
  const key = diffieHellman({ privateKey, publicKey });
  const decipher = createDecipheriv('aes-256-gcm', key, blob.subarray(32, 44));
  decipher.setAuthTag(blob.subarray(blob.length - 16));
  return Buffer.concat([decipher.update(blob.subarray(44, blob.length - 16)), decipher.final()]).toString('utf8');
}
