/** Entry point for the agent manifest (`openclaw-tee.json`); the implementation is in ./openclaw-manifest/. */
export * from './openclaw-manifest';
