"""Pure helpers: Markdown to sanitised HTML, and a readable diff between two versions' texts."""

import difflib
import re

import markdown
import nh3
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from policies.promises import fill_placeholders

ALLOWED_TAGS = {
    "a", "abbr", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h2", "h3", "h4", "h5", "h6", "hr",
    "ins", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"scope", "colspan"}, "td": {"colspan"}}


def render_markdown(source: str) -> SafeString:
    """Markdown to HTML, then sanitised: no scripts, styles, event handlers or javascript: links survive.

    Retention placeholders (``{{ retention:name }}``) are filled with the enforced period first.
    """
    html = markdown.markdown(fill_placeholders(source or ""), extensions=["extra", "sane_lists"], output_format="html")
    # The page owns the only <h1>; a document's top-level headings become <h2>.
    html = re.sub(r"<(/?)h1\b", r"<\1h2", html)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above


_TOKEN = re.compile(r"\s+|[^\s]+")
CONTEXT_LINES = 2


def _word_diff(old: str, new: str) -> str:
    a, b = _TOKEN.findall(old), _TOKEN.findall(new)
    out = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            out.append(escape("".join(a[i1:i2])))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return "".join(out)


def diff_lines(old: str, new: str) -> list[dict]:
    """Line-by-line diff with word-level marks inside changed lines; long unchanged runs are folded.

    Each item is ``{"kind": "same"|"added"|"removed"|"changed"|"skip", "html": SafeString}``
    (``skip`` items carry ``count``, the number of unchanged lines folded away).
    """
    a, b = (old or "").splitlines(), (new or "").splitlines()
    rows: list[dict] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            same = a[i1:i2]
            if len(same) > 2 * CONTEXT_LINES + 1:
                head = same[:CONTEXT_LINES] if rows else []
                tail = same[-CONTEXT_LINES:] if i2 < len(a) or j2 < len(b) else []
                rows += [{"kind": "same", "html": escape(line)} for line in head]
                rows.append({"kind": "skip", "count": len(same) - len(head) - len(tail), "html": ""})
                rows += [{"kind": "same", "html": escape(line)} for line in tail]
            else:
                rows += [{"kind": "same", "html": escape(line)} for line in same]
        elif op == "delete":
            rows += [{"kind": "removed", "html": mark_safe(f"<del>{escape(line)}</del>")} for line in a[i1:i2]]
        elif op == "insert":
            rows += [{"kind": "added", "html": mark_safe(f"<ins>{escape(line)}</ins>")} for line in b[j1:j2]]
        else:  # replace: pair the lines up and mark the words that changed
            old_part, new_part = a[i1:i2], b[j1:j2]
            for k in range(max(len(old_part), len(new_part))):
                o = old_part[k] if k < len(old_part) else None
                n = new_part[k] if k < len(new_part) else None
                if o is None:
                    rows.append({"kind": "added", "html": mark_safe(f"<ins>{escape(n)}</ins>")})
                elif n is None:
                    rows.append({"kind": "removed", "html": mark_safe(f"<del>{escape(o)}</del>")})
                else:
                    rows.append({"kind": "changed", "html": mark_safe(_word_diff(o, n))})  # noqa: S308 - escaped
    return rows


def diff_stats(rows: list[dict]) -> dict:
    """How many lines were added, removed and changed."""
    return {k: sum(1 for r in rows if r["kind"] == k) for k in ("added", "removed", "changed")}
