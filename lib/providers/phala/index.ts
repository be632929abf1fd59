/** Phala Cloud provider: API client, wire types, typed errors, id checks and the app-compose check. */
export * from './client';
export * from './errors';
export * from './wire';
export { cvmIdSegment, isCvmId } from './ids';
export { backoffDelay, DEFAULT_RETRY, type RetryOptions } from './transport';
export { checkAppCompose, AppComposeError, type AppComposeErrorCode, type ExpectedAppCompose } from './app-compose';
