"""A plan as a picture: its packages and their requirements in Graphviz DOT, and as SVG when
Graphviz's `dot` is installed (it is run on the DOT text only, never on the build).

Nodes are packages, shaped by kind (core: box, module: ellipse, group: folder, meta: house),
labelled with their file count and size. Edges are requirements, drawn by why they exist:
a module needing another loaded first (bold), a file linking a sibling's library (labelled
with the soname), and the plain "needs the core" requirement (grey). The meta package's
extras are grey notes: one per module type and any layout-defined extra (an extra per module
id is implied by the module's own package and not drawn; `all` is every module).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from qpack.errors import QpackError
from qpack.plan import Package, Plan, packaged_modules

_SHAPES = {"core": "box", "module": "ellipse", "group": "folder", "meta": "house"}
_FILL = {"core": "#cfe2f3", "module": "#d9ead3", "group": "#fff2cc", "meta": "#ead1dc"}
_DOT_TIMEOUT_S = 60


class GraphError(QpackError):
    """The graph cannot be drawn or written (dot failed, output unwritable)."""


def quote(text: str) -> str:
    """A DOT double-quoted string (every ID and label is one, so no name can break the syntax)."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def human_size(n: int) -> str:
    """`1.5 MiB`: binary units, one decimal."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def package_sizes(plan: Plan) -> dict[str, int]:
    """Bytes of regular files in each package (symlinks and directories count nothing)."""
    by_path = plan.inventory.by_path()
    return {
        p.name: sum(by_path[f].size for f in p.files if f in by_path and by_path[f].kind == "file")
        for p in plan.packages
    }


def _attrs(**kw: str) -> str:
    return "[" + ", ".join(f"{k}={quote(v)}" for k, v in kw.items()) + "]"


def _edges(plan: Plan) -> Iterable[str]:
    module_pkg = {m: p.name for p in plan.packages for m in p.modules}
    cores = set(plan.layout.core_packages())
    libs = {(r.package, r.requires): r.soname for r in plan.library_requirements}
    for p in plan.packages:
        if p.kind == "meta":
            continue
        dep_pkgs = {
            module_pkg[d] for m in p.modules for d in plan.layout.loader.deps_of(m) if d in module_pkg
        }
        for r in p.requires:
            if (p.name, r) in libs:
                yield f"  {quote(p.name)} -> {quote(r)} {_attrs(label=libs[p.name, r], color='#9c27b0')};"
            elif r in dep_pkgs:
                bold = _attrs(style="bold", color="#1c4587", label="loads first")
                yield f"  {quote(p.name)} -> {quote(r)} {bold};"
            elif r in cores:
                yield f"  {quote(p.name)} -> {quote(r)} {_attrs(color='#999999')};"
            else:
                yield f"  {quote(p.name)} -> {quote(r)};"


def _meta_lines(meta: Package, module_ids: set[str]) -> Iterable[str]:
    for r in meta.requires:
        yield f"  {quote(meta.name)} -> {quote(r)} {_attrs(color='#999999')};"
    for extra, members in meta.extras.items():
        if extra in module_ids or extra == "all":
            continue
        node = f"{meta.name}[{extra}]"
        yield f"  {quote(node)} {_attrs(shape='note', style='filled', fillcolor='#f3f3f3', fontsize='10')};"
        yield f"  {quote(meta.name)} -> {quote(node)} {_attrs(style='dashed', arrowhead='none')};"
        for m in members:
            yield f"  {quote(node)} -> {quote(m)} {_attrs(style='dashed', color='#888888')};"


def plan_dot(plan: Plan) -> str:
    """The plan's packages and requirements as a DOT digraph (deterministic: same plan, same text)."""
    sizes = package_sizes(plan)
    lines = [
        f"digraph {quote(plan.layout.name)} {{",
        f"  graph {_attrs(rankdir='LR', fontname='sans-serif', label=_title(plan), labelloc='t')};",
        f"  node {_attrs(fontname='sans-serif', style='filled')};",
        f"  edge {_attrs(fontname='sans-serif', fontsize='9')};",
    ]
    for p in plan.packages:
        detail = (
            f"{p.kind}, {len(p.files)} file{'s' if len(p.files) != 1 else ''}, {human_size(sizes[p.name])}"
        )
        if p.kind == "meta":
            detail = f"meta: {len(p.extras)} extras"
        elif len(p.modules) > 1 or p.kind == "group":
            detail += f"\n{len(p.modules)} module{'s' if len(p.modules) != 1 else ''}"
        label = f"{p.name}\n{detail}"
        lines.append(
            f"  {quote(p.name)} {_attrs(shape=_SHAPES[p.kind], fillcolor=_FILL[p.kind], label=label)};"
        )
    lines += _edges(plan)
    module_ids = {m.id for m in plan.modules}
    for p in plan.packages:
        if p.kind == "meta":
            lines += _meta_lines(p, module_ids)
    lines.append("}")
    return "\n".join(lines) + "\n"


def _title(plan: Plan) -> str:
    return f"{plan.layout.name}: {len(plan.packages)} packages, {len(packaged_modules(plan))} modules"


def dot_program() -> str | None:
    return shutil.which("dot")


def render_svg(dot_text: str, dot: str | None = None) -> bytes:
    """SVG of DOT text, drawn by Graphviz's `dot`; GraphError when it is missing or fails."""
    program = dot or dot_program()
    if program is None:
        raise GraphError("Graphviz's dot is not installed (apt-get install graphviz): cannot draw SVG")
    try:
        r = subprocess.run(
            [program, "-Tsvg"],
            input=dot_text.encode(),
            capture_output=True,
            timeout=_DOT_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as e:
        raise GraphError(f"{program}: cannot run it: {e}") from None
    if r.returncode != 0:
        first = (r.stderr.decode(errors="replace").strip().splitlines() or ["no output"])[0]
        raise GraphError(f"{program} -Tsvg failed (exit status {r.returncode}): {first}")
    return r.stdout


def write_graph(plan: Plan, path: Path) -> tuple[list[Path], str | None]:
    """Write the DOT graph to `path` (`x.svg` means: DOT to `x.dot`, SVG to `x.svg`) and the SVG
    beside it when `dot` is installed. Returns (paths written, a note when SVG was not drawn)."""
    from qpack.writers import write_file_atomic

    if path.suffix not in (".dot", ".gv", ".svg"):
        raise GraphError(
            f"--graph {path}: name a .dot (or .gv) or .svg file (both are written, side by side), "
            "or - for the DOT text on stdout"
        )
    dot_path = path.with_suffix(".dot") if path.suffix == ".svg" else path
    svg_path = dot_path.with_suffix(".svg")
    text = plan_dot(plan)
    written = [dot_path]
    note = None
    svg = render_svg(text) if dot_program() is not None else None  # drawn before anything is written
    write_file_atomic(dot_path, text.encode("utf-8"))
    if svg is not None:
        write_file_atomic(svg_path, svg)
        written.append(svg_path)
    else:
        note = f"wrote {dot_path} only: Graphviz's dot is not installed (apt-get install graphviz)"
    return written, note
