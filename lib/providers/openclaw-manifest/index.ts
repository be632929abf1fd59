/** `openclaw-tee.json`: schema, parser and the compose / provision request derived from it. */
export * from './errors';
export * from './manifest';
export * from './compose';
