import { useTranslation } from 'react-i18next';

/** ‹ 2/3 ›: which version of a message is shown, and buttons to show the others. */
export function VersionSwitcher(props: {
  versionIds: string[];
  id: string;
  disabled: boolean;
  onSelect(id: string): void;
}) {
  const { t } = useTranslation();
  const at = props.versionIds.indexOf(props.id);
  const count = props.versionIds.length;
  if (count < 2 || at < 0) return null;
  return (
    <span className="versions" role="group" aria-label={t('features.versions.label')}>
      <button
        type="button"
        className="quiet small"
        aria-label={t('features.versions.previous')}
        disabled={props.disabled || at === 0}
        onClick={() => props.onSelect(props.versionIds[at - 1]!)}
      >
        ‹
      </button>
      <span className="version-count">
        {at + 1}/{count}
      </span>
      <button
        type="button"
        className="quiet small"
        aria-label={t('features.versions.next')}
        disabled={props.disabled || at === count - 1}
        onClick={() => props.onSelect(props.versionIds[at + 1]!)}
      >
        ›
      </button>
    </span>
  );
}
