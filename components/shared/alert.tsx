import type { ComponentChildren } from 'preact';

/** Errors are announced at once (role="alert"); renders nothing when there is no message. */
export function ErrorAlert({ message }: { message: string | null }) {
  if (!message) return null;
  return (
    <p class="alert alert-error" role="alert">
      {message}
    </p>
  );
}

/** Success and progress notes: polite, so they do not interrupt typing. */
export function Notice({ children }: { children: ComponentChildren }) {
  if (children === null || children === undefined || children === false || children === '') return null;
  return (
    <p class="alert alert-ok" role="status">
      {children}
    </p>
  );
}
