import { isValidElement, memo, type ReactNode, useRef, useState } from 'react';
import Markdown, { type Components, type Options } from 'react-markdown';
import { useTranslation } from 'react-i18next';
import rehypeHighlight from 'rehype-highlight';
import rehypeKatex from 'rehype-katex';
import remarkGfm from 'remark-gfm';
import remarkMath from 'remark-math';
// KaTeX's stylesheet and fonts are bundled by Vite and served from our own origin.
import 'katex/dist/katex.min.css';
import { copyText } from './clipboard';

// react-markdown builds React elements, never HTML strings: raw HTML in an answer is shown as
// text (no rehype-raw), and unsafe link targets (javascript:) are dropped by its default URL
// filter. KaTeX runs untrusted (its default): \href, \url and \html… commands render as text.
// GFM: tables, task lists, strikethrough, autolinks. Math: $…$ inline, $$…$$ as a block.
// Highlighting: only fenced blocks that name their language (no guessing).
const remarkPlugins: Options['remarkPlugins'] = [
  remarkGfm,
  [remarkMath, { singleDollarTextMath: true }],
];
const rehypePlugins: Options['rehypePlugins'] = [
  [rehypeKatex, { throwOnError: false, strict: 'ignore' }],
  [rehypeHighlight, { detect: false }],
];

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
      <Markdown components={components} remarkPlugins={remarkPlugins} rehypePlugins={rehypePlugins}>
        {text}
      </Markdown>
    </div>
  );
});
