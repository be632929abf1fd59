import { ClawkeepError } from '../../errors';

/**
 * A manifest that does not satisfy the `openclaw-tee.json` schema. `issues` lists every problem found, each
 * naming its field path (`env[2].key "1BAD" must match …`); `message` joins them for a person. A manifest is
 * configuration, not a secret: quoting its values (short, capped) is fine — except `default`s, which are never
 * echoed because a careless author might have put a real value there.
 */
export type ManifestErrorCode = 'manifest_invalid';

export class ManifestError extends ClawkeepError {
  declare readonly code: ManifestErrorCode;
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    const shown = issues.slice(0, 10).join('; ');
    const more = issues.length > 10 ? ` (and ${issues.length - 10} more)` : '';
    super('manifest_invalid', `Invalid manifest: ${shown}${more}.`);
    this.name = 'ManifestError';
    this.issues = issues;
  }

  override toJSON(): { code: ManifestErrorCode; message: string; issues: readonly string[] } {
    return { code: this.code, message: this.message, issues: this.issues };
  }
}
