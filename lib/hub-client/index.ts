/** Framework-free hub client: signed fetch with an async signer, SSE reader, typed errors, display summaries. */
export * from './api';
export * from './client';
export * from './errors';
export * from './sse';
export * from './summary';
