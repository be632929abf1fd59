/**
 * Clawkeep hub wire protocol v1 (docs/protocol.md). Framework-free; runs in browsers and Node. Import this
 * barrel or the single modules: canonical JSON, intent hashes and kinds, keys, scopes, claim codes, signed
 * approval/claim statements, signed requests, sealed secrets and configs, and the HTTP body schemas.
 */
export * from './api-errors';
export * from './approval';
export * from './base64url';
export * from './canonical';
export * from './claim-code';
export * from './config-payload';
export * from './errors';
export * from './fields';
export * from './intent-hash';
export * from './key-binding';
export * from './keys';
export * from './request-signing';
export * from './scopes';
export * from './sealed-config';
export * from './sealed-secret';
export * from './wire';
