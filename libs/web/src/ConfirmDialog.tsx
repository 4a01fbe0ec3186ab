import { useEffect, useId, useRef } from 'react';
import { useTranslation } from 'react-i18next';

/**
 * A modal question with Cancel and a (dangerous) confirm button (the native <dialog>: focus
 * stays inside, Escape cancels). Shown while `open`; each app styles it by `className`.
 */
export function ConfirmDialog(props: {
  open: boolean;
  className: string;
  title: string;
  body: string;
  confirmLabel: string;
  onConfirm(): void;
  onCancel(): void;
}) {
  const { t } = useTranslation('web');
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      className={props.className}
      aria-labelledby={titleId}
      onClose={props.onCancel}
    >
      <h2 id={titleId}>{props.title}</h2>
      <p>{props.body}</p>
      <div className="dialog-actions">
        <button type="button" className="quiet" onClick={props.onCancel} autoFocus>
          {t('cancel')}
        </button>
        <button type="button" className="danger" onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}
