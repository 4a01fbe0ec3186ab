import { type FormEvent, useState } from 'react';
import { useTranslation } from 'react-i18next';

/** A sent message opened for editing: sending it adds a new version and a new answer. */
export function EditMessage(props: {
  id: string;
  content: string;
  onSend(content: string): void;
  onCancel(): void;
}) {
  const { t } = useTranslation();
  const [text, setText] = useState(props.content);
  const fieldId = `edit-${props.id}`;

  function submit(e: FormEvent) {
    e.preventDefault();
    const content = text.trim();
    if (content) props.onSend(content);
  }

  return (
    <form className="edit-message" onSubmit={submit}>
      <label htmlFor={fieldId} className="visually-hidden">
        {t('features.edit.label')}
      </label>
      <textarea
        id={fieldId}
        rows={3}
        autoFocus
        value={text}
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => e.key === 'Escape' && props.onCancel()}
      />
      <div className="row">
        <button type="submit" className="small primary" disabled={!text.trim()}>
          {t('features.edit.send')}
        </button>
        <button type="button" className="quiet small" onClick={props.onCancel}>
          {t('cancel')}
        </button>
      </div>
    </form>
  );
}
