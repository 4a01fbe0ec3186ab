import type { Highlighted } from '../api';

/** Text with the search's matches marked; the pieces are rendered as text, never as HTML. */
export function Highlight({ pieces }: { pieces: Highlighted }) {
  return (
    <>
      {pieces.map((p, i) =>
        p.match ? <mark key={i}>{p.text}</mark> : <span key={i}>{p.text}</span>,
      )}
    </>
  );
}
