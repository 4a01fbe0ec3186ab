/** Escapes text for HTML element content and attribute values. */
function escapeHtml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

/**
 * The page a browser sees when single sign-on cannot sign it in: a person reads it (the sign-in
 * was a navigation, not an API call), so it says what happened and what to do, with the stable
 * code for support. Everything in it is escaped text; no script.
 */
export function ssoErrorPage(p: { title: string; message: string; code: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(p.title)} · Enclave</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 36rem; margin: 4rem auto; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.4rem; }
code { background: #f3f4f6; padding: 0.1rem 0.3rem; border-radius: 4px; }
</style>
</head>
<body>
<main>
<h1>${escapeHtml(p.title)}</h1>
<p>${escapeHtml(p.message)}</p>
<p>Error code: <code>${escapeHtml(p.code)}</code></p>
<p><a href="/">Back to sign-in</a></p>
</main>
</body>
</html>
`;
}
