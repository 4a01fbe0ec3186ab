import { type KeyboardEvent, useCallback, useEffect, useState } from 'react';
import { api, type PromptTemplate } from '../api';
import { TemplatesDialog } from './TemplatesDialog';
import { useTranslation } from 'react-i18next';

/** The message box holds only `/` and the start of a template's name. */
const COMMAND = /^\/([a-z0-9_-]*)$/;

/**
 * Prompt templates in the composer: typing `/` opens a list of your templates and the published
 * ones, narrowed as you type their name; ↑/↓ choose, Enter or Tab (or a click) puts the
 * template's text into the message box, Escape closes the list. Returns the list to render in
 * the composer, the dialog that manages templates (to render outside it), the key handler the
 * message box calls first, and the attributes that tie the box and the list together.
 */
export function useTemplateMenu(draft: string, setDraft: (text: string) => void) {
  const { t } = useTranslation();
  const [templates, setTemplates] = useState<PromptTemplate[] | null>(null);
  const [index, setIndex] = useState(0);
  const [dismissed, setDismissed] = useState<string | null>(null);
  const [managing, setManaging] = useState(false);

  const typed = COMMAND.exec(draft)?.[1];
  const open = typed !== undefined && dismissed !== draft && !managing;

  const load = useCallback(() => {
    api
      .templates()
      .then((r) => setTemplates(r.data))
      .catch(() => setTemplates([]));
  }, []);
  useEffect(() => {
    if (open && templates === null) load();
  }, [open, templates, load]);
  useEffect(() => setIndex(0), [typed]);

  const matches = open ? (templates ?? []).filter((tpl) => tpl.name.startsWith(typed)) : [];

  function insert(tpl: PromptTemplate) {
    setDraft(tpl.content);
    setDismissed(null);
  }

  /** Handles the key when the list is open; true when it did. */
  function onKeyDown(e: KeyboardEvent<HTMLTextAreaElement>): boolean {
    if (!open) return false;
    if (e.key === 'Escape') {
      setDismissed(draft);
    } else if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      const n = matches.length;
      if (!n) return false;
      setIndex((i) => (i + (e.key === 'ArrowDown' ? 1 : n - 1)) % n);
    } else if ((e.key === 'Enter' || e.key === 'Tab') && matches[index]) {
      insert(matches[index]);
    } else {
      return false;
    }
    e.preventDefault();
    return true;
  }

  const optionId = (i: number) => `template-option-${i}`;
  const inputProps = {
    role: 'combobox' as const,
    'aria-expanded': open,
    'aria-controls': 'template-menu',
    'aria-autocomplete': 'list' as const,
    'aria-activedescendant': open && matches[index] ? optionId(index) : undefined,
  };

  const menu = open && (
    <div className="template-menu">
      <ul id="template-menu" role="listbox" aria-label={t('features.templates.label')}>
        {matches.map((tpl, i) => (
          <li
            key={tpl.id}
            id={optionId(i)}
            role="option"
            aria-selected={i === index}
            onMouseDown={(e) => {
              e.preventDefault();
              insert(tpl);
            }}
          >
            <strong>/{tpl.name}</strong>
            {tpl.shared && <span className="tag">{t('features.templates.published')}</span>}
            <span className="template-preview">{tpl.content}</span>
          </li>
        ))}
      </ul>
      {templates !== null && !matches.length && (
        <p className="empty">{t('features.templates.noMatch', { typed })}</p>
      )}
      <button type="button" className="quiet small" onClick={() => setManaging(true)}>
        {t('features.templates.manage')}
      </button>
    </div>
  );
  // Rendered outside the composer's form: a form inside a form would submit both.
  const dialog = managing && (
    <TemplatesDialog
      onClose={() => {
        setManaging(false);
        load();
      }}
    />
  );
  return { menu, dialog, onKeyDown, inputProps };
}
