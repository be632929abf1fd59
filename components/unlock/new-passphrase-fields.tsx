import { Field } from '../shared/field';
import { PassphraseStrength } from './passphrase-strength';

/** "New passphrase" (with its strength) and "Repeat new passphrase": changing it, or setting one after recovery. */
export function NewPassphraseFields(props: {
  next: string;
  repeat: string;
  onNext: (v: string) => void;
  onRepeat: (v: string) => void;
  disabled: boolean;
}) {
  return (
    <>
      <Field
        type="password"
        label="New passphrase"
        value={props.next}
        onInput={props.onNext}
        autoComplete="new-password"
        disabled={props.disabled}
        hint={<PassphraseStrength passphrase={props.next} />}
      />
      <Field
        type="password"
        label="Repeat new passphrase"
        value={props.repeat}
        onInput={props.onRepeat}
        autoComplete="new-password"
        disabled={props.disabled}
      />
    </>
  );
}
