/** The deploy flow's steps, in order, with the labels the wizard shows. */
export const DEPLOY_STEPS = [
  { id: 'provision', label: 'Provision' },
  // The CVM boots without any secret: only a CVM that exists can be attested (real Phala Cloud).
  { id: 'start', label: 'Start (no secrets yet)' },
  { id: 'verify', label: 'Verify attestation' },
  { id: 'seal', label: 'Seal secrets' },
  { id: 'health', label: 'Health' },
] as const;

export type DeployStepId = (typeof DEPLOY_STEPS)[number]['id'];
export type StepState = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface StepStatus {
  id: DeployStepId;
  label: string;
  state: StepState;
  /** One line for the user: what happened, or why it failed. Never a secret. */
  detail?: string;
}

/**
 * Progress of one run of a flow over a subset of the steps. Every change produces a fresh array (so a UI can
 * keep it as state) and is reported to `onChange`. After a failure the remaining steps are marked skipped.
 */
export class StepTracker {
  private steps: StepStatus[];

  constructor(
    ids: readonly DeployStepId[],
    private readonly onChange: (steps: StepStatus[]) => void = () => {},
  ) {
    this.steps = DEPLOY_STEPS.filter((s) => ids.includes(s.id)).map((s) => ({
      id: s.id,
      label: s.label,
      state: 'pending',
    }));
    this.onChange(this.snapshot());
  }

  snapshot(): StepStatus[] {
    return this.steps.map((s) => ({ ...s }));
  }

  start(id: DeployStepId, detail?: string): void {
    this.set(id, 'running', detail);
  }

  done(id: DeployStepId, detail?: string): void {
    this.set(id, 'done', detail);
  }

  /** Marks `id` failed and every step still pending as skipped. */
  fail(id: DeployStepId, detail: string): void {
    this.steps = this.steps.map((s) =>
      s.id === id
        ? { ...s, state: 'failed', detail }
        : s.state === 'pending'
          ? { ...s, state: 'skipped', detail: undefined }
          : s,
    );
    this.onChange(this.snapshot());
  }

  private set(id: DeployStepId, state: StepState, detail?: string): void {
    this.steps = this.steps.map((s) => (s.id === id ? { ...s, state, detail } : s));
    this.onChange(this.snapshot());
  }
}
