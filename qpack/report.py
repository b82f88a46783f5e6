"""One self-contained HTML page of a split, for people who would rather look than read: the
packages with their sizes (a treemap and bars), the modules by type, the requirements (the
`qpack.graph` picture when Graphviz is installed, and a table), the libraries each package
needs from outside the build, the warnings, and, given an installed prefix, the verdicts of
`qpack check`.

The page needs nothing from the network: styles, script and pictures are inline. Everything
is drawn here, in Python, into the HTML; the small script only sorts tables and filters rows,
so the page reads the same with scripts off. The template is `templates/report.html`
(`string.Template`, `$name` placeholders); every value put into it is escaped.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from string import Template

from qpack import __version__
from qpack.check import CheckReport, cannot_start_lines, said_below
from qpack.graph import GraphError, dot_program, human_size, package_sizes, plan_dot, render_svg
from qpack.libdeps import package_libs
from qpack.plan import Package, Plan, packaged_modules

# One colour per package kind, used by the treemap, the bars and the legend.
KIND_COLORS = {"core": "#4e79a7", "module": "#59a14f", "group": "#edc948", "meta": "#b07aa1"}
TREEMAP_W, TREEMAP_H = 1000, 360


@dataclass(frozen=True, slots=True)
class Rect:
    x: float
    y: float
    w: float
    h: float


def _worst(row: Sequence[float], side: float) -> float:
    s = sum(row)
    return max(max(side * side * r / (s * s), (s * s) / (side * side * r)) for r in row)


def squarify(values: Sequence[float], box: Rect) -> list[Rect]:
    """Squarified treemap (Bruls, Huizing, van Wijk): one rectangle per value, in order, each
    with an area proportional to its value, as close to square as the greedy rows allow.
    `values` must be positive and sorted from largest to smallest."""
    total = sum(values)
    if not values or total <= 0:
        return []
    scale = box.w * box.h / total
    areas = [v * scale for v in values]
    out: list[Rect] = []
    x, y, w, h = box.x, box.y, box.w, box.h
    i = 0
    while i < len(areas):
        side = min(w, h)
        row = [areas[i]]
        i += 1
        while i < len(areas) and _worst([*row, areas[i]], side) <= _worst(row, side):
            row.append(areas[i])
            i += 1
        s = sum(row)
        if w >= h:  # a column on the left
            cw = s / h
            cy = y
            for a in row:
                out.append(Rect(x, cy, cw, a / cw))
                cy += a / cw
            x, w = x + cw, w - cw
        else:  # a row on top
            rh = s / w
            cx = x
            for a in row:
                out.append(Rect(cx, y, a / rh, rh))
                cx += a / rh
            y, h = y + rh, h - rh
    return out


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def treemap_svg(packages: Sequence[Package], sizes: dict[str, int]) -> str:
    """The packages with files as a treemap: area = bytes, colour = kind."""
    shown = sorted((p for p in packages if sizes.get(p.name, 0) > 0), key=lambda p: (-sizes[p.name], p.name))
    rects = squarify([float(sizes[p.name]) for p in shown], Rect(0, 0, TREEMAP_W, TREEMAP_H))
    cells = []
    for p, r in zip(shown, rects, strict=True):
        label = ""
        if r.w > 70 and r.h > 28:
            label = (
                f'<text x="{r.x + 4:.1f}" y="{r.y + 15:.1f}">{_e(_clip(p.name, r.w))}</text>'
                f'<text class="sub" x="{r.x + 4:.1f}" y="{r.y + 28:.1f}">'
                f"{_e(human_size(sizes[p.name]))}</text>"
            )
        cells.append(
            f'<g class="cell" data-package="{_e(p.name)}"><title>{_e(p.name)} ({p.kind}): '
            f"{_e(human_size(sizes[p.name]))}, {len(p.files)} file{'' if len(p.files) == 1 else 's'}</title>"
            f'<rect x="{r.x:.1f}" y="{r.y:.1f}" width="{r.w:.1f}" height="{r.h:.1f}" '
            f'fill="{KIND_COLORS[p.kind]}"/>{label}</g>'
        )
    return (
        f'<svg class="treemap" viewBox="0 0 {TREEMAP_W} {TREEMAP_H}" role="img" '
        f'aria-label="package sizes">{"".join(cells)}</svg>'
    )


def _clip(text: str, width: float) -> str:
    fit = max(3, int(width / 7.2))
    return text if len(text) <= fit else text[: fit - 1] + "\u2026"


def _table(
    cls: str, columns: Sequence[str], rows: Iterable[Sequence[str]], row_attrs: Iterable[str] | None = None
) -> str:
    """A sortable table; cells are HTML already escaped by the caller."""
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    attrs = list(row_attrs) if row_attrs is not None else None
    body = []
    for i, r in enumerate(rows):
        extra = f" {attrs[i]}" if attrs else ""
        body.append(f"<tr{extra}>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    if not body:
        return '<p class="none">none</p>'
    return (
        f'<table class="{cls} sortable"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
    )


def _bar(value: int, largest: int, color: str) -> str:
    pct = 100.0 * value / largest if largest else 0.0
    return (
        f'<div class="bar" data-value="{value}"><span style="width:{pct:.2f}%;background:{color}"></span>'
        f"<em>{_e(human_size(value))}</em></div>"
    )


def _packages_section(plan: Plan, sizes: dict[str, int]) -> str:
    largest = max(sizes.values(), default=0)
    rows = []
    attrs = []
    for p in plan.packages:
        rows.append(
            (
                f'<span class="kind" style="background:{KIND_COLORS[p.kind]}"></span>{_e(p.name)}',
                _e(p.kind),
                f'<span data-value="{len(p.files)}">{len(p.files)}</span>',
                _bar(sizes[p.name], largest, KIND_COLORS[p.kind]),
                _e(", ".join(p.modules)),
                _e(", ".join(p.relations)),
            )
        )
        attrs.append(f'data-package="{_e(p.name)}" data-kind="{_e(p.kind)}"')
    return _table("packages", ("package", "kind", "files", "size", "modules", "requires"), rows, attrs)


def _modules_section(plan: Plan) -> str:
    owner = {m: p.name for p in plan.packages for m in p.modules}
    by_type: dict[str, list[str]] = defaultdict(list)
    for m in plan.modules:
        if m.id in owner:
            by_type[m.type or "(untyped)"].append(m.id)
    counts = Counter({t: len(ms) for t, ms in by_type.items()})
    most = max(counts.values(), default=0)
    rows = [
        (
            _e(t),
            f'<div class="bar count" data-value="{n}"><span style="width:{100.0 * n / most:.2f}%"></span>'
            f"<em>{n}</em></div>",
            " ".join(
                f'<code title="package {_e(owner.get(m, "-"))}">{_e(m)}</code>' for m in sorted(by_type[t])
            ),
        )
        for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
    return _table("modules", ("type", "modules", "ids"), rows)


def _requirements_section(plan: Plan, graph_svg: str | None) -> str:
    why = {(r.package, r.requires): f"symlink {r.path}" for r in plan.link_requirements}
    why |= {(r.package, r.requires): f"links {r.soname}" for r in plan.library_requirements}
    module_pkg = {m: p.name for p in plan.packages for m in p.modules}
    rows = []
    for p in plan.packages:
        deps = {module_pkg[d] for m in p.modules for d in plan.layout.loader.deps_of(m) if d in module_pkg}
        for r in p.requires:
            reason = why.get((p.name, r)) or ("loads its modules first" if r in deps else "")
            if not reason:
                reason = "meta: the core" if p.kind == "meta" else "the core"
            rows.append((_e(p.name), _e(r), _e(reason)))
    extras = [
        (_e(p.name), _e(extra), _e(", ".join(members)))
        for p in plan.packages
        if p.kind == "meta"
        for extra, members in p.extras.items()
    ]
    picture = f'<div class="graph">{graph_svg}</div>' if graph_svg else ""
    return (
        picture
        + _table("requires", ("package", "requires", "why"), rows)
        + "<h3>Extras of the meta package</h3>"
        + _table("extras", ("meta", "extra", "packages"), extras)
    )


def _libraries_section(plan: Plan) -> str:
    libs = package_libs(plan)
    rows = [
        (_e(name), _e(x.soname), _e(x.machine), _e(", ".join(x.needed_by)))
        for name, pl in libs.items()
        for x in pl.external
    ]
    return _table("libraries", ("package", "needs (DT_NEEDED)", "machine", "needed by"), rows)


def _check_section(report: CheckReport | None) -> tuple[str, str]:
    """(summary line, table) of the check verdicts; empty when no prefix was checked."""
    if report is None:
        return "", '<p class="none">no installed prefix was checked (qpack report --check PREFIX)</p>'
    s = report.summary()
    rows = []
    attrs = []
    for m in report.modules:
        problems = said_below(
            "; ".join(f"{p.kind}: {p.detail}" for p in m.problems), report.cannot_start.values()
        )
        said = "yes" if m.loads else "unused" if m.unused else "no"
        rows.append(
            (
                _e(m.module),
                _e(m.file or "-"),
                f'<span class="{"yes" if m.loads else "no"}">{said}</span>',
                _e(problems),
            )
        )
        attrs.append(f'data-module="{_e(m.module)}" data-loads="{"yes" if m.loads else "no"}"')
    # A gdk-pixbuf tester's "12 of 12 modules load in <venv>" named this machine's 12 loaders,
    # the venv's own three not searched without the variable (a warning said so, the headline not).
    # A SASL tester's SASL_PATH named the venv's directory and the system's: "8 of 8 in <venv>"
    # counted the system's six among them.
    top = report.prefix.rstrip("/") + "/"
    outside = {
        m.module
        for m in report.modules
        if report.root == "/" and report.prefix != "/" and m.file and not m.file.startswith(top)
    }
    if report.elsewhere:
        where = (
            f"for the programs of {report.prefix} (none of them in it: the directories searched are "
            "this machine's, see the warnings)"
        )
    elif outside:
        where = f"for the programs of {report.prefix} ({len(outside)} of them outside it, this machine's)"
    else:
        where = f"in {report.prefix}"
    summary = f"{s['load']} of {s['modules']} modules load {where}; {s['problems']} problem(s)"
    below = "".join(
        f'<p class="problem">problem: {_e(why)}</p>'
        for why in cannot_start_lines(report.cannot_start.values())
    )
    return summary, _table("check", ("module", "file", "loads", "problems"), rows, attrs) + below


def _graph_svg(plan: Plan) -> tuple[str | None, str | None]:
    """(inline SVG of the requirements graph, a note when it could not be drawn)."""
    if dot_program() is None:
        return None, "Graphviz's dot is not installed: the requirements are shown as a table only"
    try:
        svg = render_svg(plan_dot(plan)).decode("utf-8", "replace")
    except GraphError as e:
        return None, str(e)
    start = svg.find("<svg")
    return (svg[start:] if start >= 0 else None), None


def _json_for_script(data: object) -> str:
    return re.sub(r"</", r"<\\/", json.dumps(data, sort_keys=True))


def render_report(
    plan: Plan, *, check: CheckReport | None = None, warnings: Sequence[str] = (), graph: bool = True
) -> str:
    """The HTML page of a plan (and, given, the check of an installed prefix)."""
    sizes = package_sizes(plan)
    graph_svg, graph_note = _graph_svg(plan) if graph else (None, None)
    all_warnings = [*plan.warnings, *warnings, *([graph_note] if graph_note else [])]
    check_summary, check_table = _check_section(check)
    legend = "".join(
        f'<span class="legend"><span class="kind" style="background:{c}"></span>{k}</span>'
        for k, c in KIND_COLORS.items()
    )
    total = sum(sizes.values())
    files = sum(len(p.files) for p in plan.packages)
    # The modules the split packages: an fcitx5 tester's three excluded test addons made "21
    # modules" of 18 (the page listed them with no package).
    shipped = len(packaged_modules(plan))
    facts = {
        "packages": len(plan.packages),
        "modules": shipped,
        "files": files,
        "bytes": total,
        "warnings": len(all_warnings),
    }
    cards = "".join(
        f'<div class="card"><b>{_e(v)}</b><span>{_e(k)}</span></div>'
        for k, v in (
            ("packages", len(plan.packages)),
            ("modules", shipped),
            ("files", files),
            ("in all", human_size(total)),
            ("warnings", len(all_warnings)),
        )
    )
    template = Template(
        resources.files("qpack").joinpath("templates/report.html").read_text(encoding="utf-8")
    )
    return template.substitute(
        title=_e(f"qpack report: {plan.layout.name} split of {plan.inventory.root}"),
        layout=_e(plan.layout.name),
        build=_e(plan.inventory.root),
        prefix=_e(plan.prefix),
        qpack_version=_e(__version__),
        cards=cards,
        legend=legend,
        treemap=treemap_svg(plan.packages, sizes),
        module_treemap=treemap_svg([p for p in plan.packages if p.kind in ("module", "group")], sizes),
        packages=_packages_section(plan, sizes),
        modules=_modules_section(plan),
        requirements=_requirements_section(plan, graph_svg),
        libraries=_libraries_section(plan),
        warnings="".join(f"<li>{_e(w)}</li>" for w in all_warnings) or '<li class="none">none</li>',
        check_summary=_e(check_summary) if check_summary else "",
        check=check_table,
        data=_json_for_script(facts),
    )
