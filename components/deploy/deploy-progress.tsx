import type { StepStatus } from '../../lib/deploy/steps';

const MARK: Record<StepStatus['state'], string> = { pending: '○', running: '…', done: '✓', failed: '✗', skipped: '–' };
const STATE_WORDS: Record<StepStatus['state'], string> = {
  pending: 'waiting',
  running: 'in progress',
  done: 'done',
  failed: 'failed',
  skipped: 'not run',
};

/** Live step list of a deploy or secrets update; polite live region so progress is announced without stealing focus. */
export function DeployProgress({
  steps,
  label = 'Deploy progress',
  omitDetail,
}: {
  steps: StepStatus[];
  label?: string;
  /** A refusal sentence the page already shows in its alert: a step whose detail is that sentence omits it. */
  omitDetail?: string;
}) {
  return (
    <ol class="deploy-steps" aria-label={label} aria-live="polite">
      {steps.map((s) => (
        <li key={s.id} class={`deploy-step deploy-step-${s.state}`} data-step={s.id} data-state={s.state}>
          <span class="deploy-step-mark" aria-hidden="true">
            {MARK[s.state]}
          </span>
          <span class="deploy-step-label">{s.label}</span>
          <span class="visually-hidden"> ({STATE_WORDS[s.state]})</span>
          {s.detail && !(omitDetail && omitDetail.includes(s.detail)) ? (
            <span class="deploy-step-detail small-text">{s.detail}</span>
          ) : null}
        </li>
      ))}
    </ol>
  );
}
