export * from './errors';
export * from './frames';
export * from './device-identity';
export * from './connect';
export * from './approvals';
export * from './backoff';
export * from './client';
