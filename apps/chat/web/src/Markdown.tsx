import { isValidElement, memo, type ReactNode, useRef, useState } from 'react';
import Markdown, { type Components } from 'react-markdown';
import { useTranslation } from 'react-i18next';
import { copyText } from './clipboard';

// react-markdown builds React elements, never HTML strings: raw HTML in an answer is shown as
// text, and unsafe link targets (javascript:) are dropped by its default URL filter.
const components: Components = {
  a: ({ node: _node, ...props }) => <a {...props} target="_blank" rel="noopener noreferrer" />,
  // Remote images would leak that the answer was read (and CSP blocks them): show the link.
  img: ({ src, alt }) =>
    typeof src === 'string' && src ? (
      <a href={src} target="_blank" rel="noopener noreferrer">
        {alt || src}
      </a>
    ) : (
      <>{alt}</>
    ),
  pre: ({ children }) => <CodeBlock>{children}</CodeBlock>,
};

function languageOf(children: ReactNode): string | null {
  if (!isValidElement<{ className?: string }>(children)) return null;
  return /language-([\w+#.-]+)/.exec(children.props.className ?? '')?.[1] ?? null;
}

function CodeBlock({ children }: { children?: ReactNode }) {
  const { t } = useTranslation();
  const pre = useRef<HTMLPreElement>(null);
  const [copied, setCopied] = useState(false);
  const language = languageOf(children);
  return (
    <div className="code-block">
      <div className="code-bar">
        <span>{language ?? t('markdown.code')}</span>
        <button
          type="button"
          className="quiet small"
          onClick={async () => {
            if (await copyText(pre.current?.textContent ?? '')) {
              setCopied(true);
              setTimeout(() => setCopied(false), 2000);
            }
          }}
        >
          {copied ? t('copied') : t('markdown.copyCode')}
        </button>
      </div>
      <pre
        ref={pre}
        tabIndex={0}
        aria-label={t('markdown.block', { language: language ?? t('markdown.codeName') })}
      >
        {children}
      </pre>
    </div>
  );
}

export const MarkdownText = memo(function MarkdownText({ text }: { text: string }) {
  return (
    <div className="markdown">
      <Markdown components={components}>{text}</Markdown>
    </div>
  );
});
