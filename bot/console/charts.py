"""Charts drawn on the server as SVG: no script, readable on a phone, printable.

Each function returns markup for a `<svg>` with a viewBox, so it scales to the page width;
labels are escaped; colours come from a small palette that stays apart for the colour-blind
(Okabe-Ito).
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#999999")


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def stacked_bars(
    title: str, labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]]
) -> Markup:
    """Vertical bars, one per label (a day), each stacked by series (a language)."""
    width, height, left, bottom, top = 420, 200, 30, 26, 12
    totals = [sum(values[i] for _, values in series) for i in range(len(labels))]
    peak = max([*totals, 1])
    step = (width - left - 8) / max(len(labels), 1)
    bar = max(step * 0.7, 1.0)
    scale = (height - bottom - top) / peak
    parts = [_axis(left, top, width, height - bottom, peak)]
    for i, label in enumerate(labels):
        x = left + i * step + (step - bar) / 2
        y = float(height - bottom)
        for s, (name, values) in enumerate(series):
            value = values[i]
            if not value:
                continue
            h = value * scale
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                f'fill="{colour(s)}"><title>{escape(label)} {escape(name)}: {value}</title></rect>'
            )
        every = max(1, len(labels) // 5)
        if i % every == 0 or i == len(labels) - 1:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{height - 10}" text-anchor="middle" '
                f'class="tick">{escape(label)}</text>'
            )
    legend = "".join(
        f'<span class="key"><i style="background:{colour(s)}"></i>{escape(name)}</span>'
        for s, (name, _) in enumerate(series)
    )
    return _figure(title, width, height, "".join(parts), legend)


def horizontal_bars(title: str, rows: Sequence[tuple[str, int]], unit: str = "") -> Markup:
    """One bar per row, longest first as given: top intents, handoff reasons."""
    width, row_height, label_width = 420, 24, 170
    height = max(len(rows), 1) * row_height + 8
    peak = max([n for _, n in rows] + [1])
    scale = (width - label_width - 40) / peak
    parts = []
    for i, (label, n) in enumerate(rows):
        y = 4 + i * row_height
        parts.append(
            f'<text x="{label_width - 6}" y="{y + 17}" text-anchor="end" class="label">'
            f"{escape(label)}</text>"
            f'<rect x="{label_width}" y="{y + 4}" width="{max(n * scale, 1):.1f}" height="18" '
            f'fill="{colour(0)}"><title>{escape(label)}: {n}</title></rect>'
            f'<text x="{label_width + n * scale + 6:.1f}" y="{y + 17}" class="value">'
            f"{n}{escape(unit)}</text>"
        )
    if not rows:
        parts.append(f'<text x="8" y="20" class="label">{escape("nothing in this period")}</text>')
    return _figure(title, width, height, "".join(parts))


def share_bar(title: str, parts_: Sequence[tuple[str, int]]) -> Markup:
    """One bar split in shares that add up to the whole: answered / unanswered, 👍 / 👎."""
    width, height = 420, 56
    total = sum(n for _, n in parts_)
    parts = []
    x = 0.0
    for i, (label, n) in enumerate(parts_):
        w = (width * n / total) if total else 0
        if w:
            share = 100 * n / total
            parts.append(
                f'<rect x="{x:.1f}" y="4" width="{w:.1f}" height="28" fill="{colour(i)}">'
                f"<title>{escape(label)}: {n} ({share:.0f}%)</title></rect>"
            )
        x += w
    if not total:
        parts.append('<rect x="0" y="4" width="420" height="28" fill="#eee"/>')
    legend = "".join(
        f'<span class="key"><i style="background:{colour(i)}"></i>{escape(label)}: {n}'
        + (f" ({100 * n / total:.0f}%)" if total else "")
        + "</span>"
        for i, (label, n) in enumerate(parts_)
    )
    return _figure(title, width, height - 20, "".join(parts), legend)


def _axis(left: int, top: int, right: int, bottom: int, peak: int) -> str:
    return (
        f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" class="axis"/>'
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" class="tick">{peak}</text>'
        f'<text x="{left - 4}" y="{bottom}" text-anchor="end" class="tick">0</text>'
    )


def _figure(title: str, width: int, height: int, body: str, legend: str = "") -> Markup:
    return Markup(
        f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
        f'<svg viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}" '
        f'preserveAspectRatio="xMinYMin meet">{body}</svg>'
        + (f'<div class="legend">{legend}</div>' if legend else "")
        + "</figure>"
    )
