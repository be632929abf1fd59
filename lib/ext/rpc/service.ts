import type * as v from 'valibot';

/**
 * One typed service boundary between extension pages and the background (issue 14, step 2).
 *
 * A background feature declares its API ONCE with {@link defineService}: a channel name and, per method, the schemas
 * of its positional arguments and its result type. Everything else is derived from that declaration:
 * - the page proxy (`createServiceProxy`, service-proxy.ts): a typed object whose methods send `{channel, method, args}`;
 * - the background server (`serveService`, service-server.ts): only our own pages may call, arguments are validated
 *   against the schemas before the service sees them, and results and errors cross one wire codec (wire.ts);
 * - the types: {@link ServiceApi} (what pages call) and {@link ServiceImpl} (what the service class `implements`),
 *   so tsc checks both ends against the same declaration.
 *
 * Declared here without `browser`, so a declaration can be imported anywhere a type is needed.
 */

/** A schema for one positional argument. Its output type is what the service method receives. */
export type ArgSchema = v.GenericSchema<unknown, unknown>;

/** One method of a declaration: its argument schemas (positional) and, as a type only, its result. */
export interface MethodSpec<A extends readonly ArgSchema[] = readonly ArgSchema[], R = unknown> {
  readonly args: A;
  /** Never set: carries the result type for the derived types. */
  readonly result?: R;
}

/** Changes the background announces to pages (`{channel, event}`); `E` is the event's type. */
export interface EventSpec<E = unknown> {
  readonly channel: string;
  /** Never set: carries the event type for the derived types. */
  readonly event?: E;
}

export interface ServiceDeclaration<
  M extends Record<string, MethodSpec> = Record<string, MethodSpec>,
  E extends EventSpec | undefined = EventSpec | undefined,
> {
  /** The request channel on the wire (`{channel, method, args}`). */
  readonly channel: string;
  /** Who the feature is, for messages: "Only Clawkeep pages may use <name>." */
  readonly name: string;
  readonly methods: M;
  readonly events: E;
}

/**
 * Starts a method declaration with the schemas of its positional arguments; `.returns<R>()` names the result type.
 * A trailing argument whose schema accepts `undefined` (`v.optional(...)`) is optional on both ends.
 * @example method(v.string(), v.optional(v.boolean())).returns<HubState>()
 */
export function method<const A extends readonly ArgSchema[]>(...args: A) {
  return {
    returns<R>(): MethodSpec<A, R> {
      return { args };
    },
  };
}

/**
 * Declares that the service announces changes on `channel`, with events of type `E`; without `E` an event only
 * says "something changed, ask again" and listeners take no argument.
 */
export function events<E = void>(channel: string): EventSpec<E> {
  return { channel };
}

/** Declares a service. The declaration is frozen: it is the one source of the proxy, the server and the types. */
export function defineService<
  const M extends Record<string, MethodSpec>,
  E extends EventSpec | undefined = undefined,
>(declaration: { channel: string; name: string; methods: M; events?: E }): ServiceDeclaration<M, E> {
  return Object.freeze({
    ...declaration,
    methods: Object.freeze({ ...declaration.methods }),
    events: declaration.events as E,
  });
}

/** `[a, b | undefined]` → `[a, b?]`: trailing arguments that may be undefined may be left out. */
type OptionalTail<T extends readonly unknown[]> = T extends readonly [...infer H, infer L]
  ? undefined extends L
    ? [...OptionalTail<H>, L?]
    : T
  : T;

type Outputs<A extends readonly ArgSchema[]> = { -readonly [I in keyof A]: v.InferOutput<A[I]> };

/** The argument list of a declared method, as both ends see it. */
export type ArgsOf<S> = S extends MethodSpec<infer A, unknown> ? OptionalTail<Outputs<A>> : never;
/** The result of a declared method. */
export type ResultOf<S> = S extends MethodSpec<readonly ArgSchema[], infer R> ? R : never;
/** The event type of a declaration (never when it announces nothing). */
export type EventOf<D> =
  D extends ServiceDeclaration<Record<string, MethodSpec>, infer E>
    ? E extends EventSpec<infer T>
      ? T
      : never
    : never;

type MethodsOf<D> = D extends ServiceDeclaration<infer M, EventSpec | undefined> ? M : never;

/** What the service class `implements`: every declared method, sync or async. */
export type ServiceImpl<D> = {
  [K in keyof MethodsOf<D>]: (
    ...args: ArgsOf<MethodsOf<D>[K]>
  ) => ResultOf<MethodsOf<D>[K]> | Promise<ResultOf<MethodsOf<D>[K]>>;
};

/** What pages call: every declared method (always async), plus `subscribe` when the service announces changes. */
export type ServiceApi<D> = {
  [K in keyof MethodsOf<D>]: (...args: ArgsOf<MethodsOf<D>[K]>) => Promise<ResultOf<MethodsOf<D>[K]>>;
} & ([EventOf<D>] extends [never]
  ? unknown
  : [EventOf<D>] extends [void]
    ? { subscribe(listener: () => void): () => void }
    : { subscribe(listener: (event: EventOf<D>) => void): () => void });

/** The method names of a declaration. */
export type MethodName<D> = keyof MethodsOf<D> & string;

/**
 * For a background part that wraps every call the same way (the vault's keyholder applies idle checks and activity
 * tracking around each method): builds the `ServiceImpl` from one function of (method, validated arguments).
 */
export function implementByDispatch<D extends ServiceDeclaration>(
  declaration: D,
  dispatch: (method: MethodName<D>, args: unknown[]) => Promise<unknown>,
): ServiceImpl<D> {
  const impl: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const name of Object.keys(declaration.methods)) impl[name] = (...args) => dispatch(name, args);
  return impl as ServiceImpl<D>;
}
