"""Debian trixie's QEMU packages on a machine of another release, without touching its apt sources.

The facts document's recipe: a private apt configuration (sources list, state and cache
directories of our own) pointing at the machine's own Debian mirror with suite `trixie`, then
`apt-get update` and `apt-get download` there. The mirror is read from the machine's sources
(`/etc/apt/sources.list`, `/etc/apt/sources.list.d/*.list|*.sources`): the URI of the entry for
the machine's own release (`VERSION_CODENAME` of /etc/os-release), or `$QPACK_DEBIAN_MIRROR`.
Nothing here raises for an unreachable archive: `fetch` returns the reason, for a pytest.skip.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

SUITE = "trixie"
KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"

# The 8 binary packages of the `qemu` source that hold x86 system emulation and its modules.
PACKAGES = (
    "qemu-system-x86",
    "qemu-system-common",
    "qemu-system-data",
    "qemu-system-gui",
    "qemu-system-modules-opengl",
    "qemu-system-modules-spice",
    "qemu-block-extra",
    "qemu-utils",
)


class Unavailable(Exception):
    """The packages cannot be had here; the message says why (a skip reason)."""


def deb_field(deb: Path, field: str) -> str:
    return subprocess.run(
        ["dpkg-deb", "-f", str(deb), field], check=True, capture_output=True, text=True
    ).stdout.strip()


def deb_contents(deb: Path) -> dict[str, str]:
    """`dpkg-deb -c`: path (no leading ./) -> 'file' or 'symlink -> <target>'. Directories are
    left out: dpkg shares them between packages."""
    out = subprocess.run(["dpkg-deb", "-c", str(deb)], check=True, capture_output=True, text=True).stdout
    files = {}
    for line in out.splitlines():
        perms, _owner, _size, _date, _time, rest = line.split(None, 5)
        if perms.startswith("d"):
            continue
        if perms.startswith("l"):
            path, target = rest.split(" -> ", 1)
            files[path.removeprefix("./")] = f"symlink -> {target}"
        else:
            files[rest.removeprefix("./")] = "file"
    return files


# --------------------------------------------------------------------------- the mirror


def _codename(os_release: Path = Path("/etc/os-release")) -> str | None:
    try:
        text = os_release.read_text()
    except OSError:
        return None
    m = re.search(r"^VERSION_CODENAME=\"?([a-z]+)\"?$", text, re.MULTILINE)
    return m.group(1) if m else None


def _one_line_entries(text: str) -> list[tuple[str, list[str]]]:
    """(URI, suites) of the `deb` lines of a one-line-style sources list."""
    entries = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        line = re.sub(r"\[[^]]*\]", " ", line)  # [signed-by=... arch=...]
        words = line.split()
        if len(words) >= 3 and words[0] == "deb":
            entries.append((words[1], [words[2]]))
    return entries


def _deb822_entries(text: str) -> list[tuple[str, list[str]]]:
    """(URI, suites) of the enabled `deb` stanzas of a deb822 `.sources` file."""
    entries = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        key = None
        for line in stanza.splitlines():
            if line.startswith("#") or not line.strip():
                continue
            if line[0].isspace() and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        suites = fields.get("suites", "").split()
        entries.extend((uri, suites) for uri in fields.get("uris", "").split())
    return entries


def machine_mirror(etc_apt: Path = Path("/etc/apt"), codename: str | None = None) -> str:
    """The Debian mirror this machine's own apt sources use for its release."""
    if os.environ.get("QPACK_DEBIAN_MIRROR"):
        return os.environ["QPACK_DEBIAN_MIRROR"]
    codename = codename or _codename()
    if not codename:
        raise Unavailable(
            "no VERSION_CODENAME in /etc/os-release: set QPACK_DEBIAN_MIRROR to a Debian mirror"
        )
    entries: list[tuple[str, list[str]]] = []
    files = [etc_apt / "sources.list", *sorted((etc_apt / "sources.list.d").glob("*"))]
    for f in files:
        try:
            text = f.read_text()
        except OSError:
            continue
        if f.name.endswith(".sources"):
            entries += _deb822_entries(text)
        elif f.name.endswith(".list"):
            entries += _one_line_entries(text)
    for uri, suites in entries:
        if codename in suites and re.match(r"https?://", uri):
            return uri.rstrip("/")
    raise Unavailable(
        f"no http(s) Debian mirror for {codename!r} in {etc_apt}/sources.list(.d): "
        "set QPACK_DEBIAN_MIRROR to a Debian mirror"
    )


# --------------------------------------------------------------------------- download


def _compare(a: str, b: str) -> int:
    if a == b:
        return 0
    lt = subprocess.run(["dpkg", "--compare-versions", a, "lt", b], check=False).returncode == 0
    return -1 if lt else 1


def _newest(debs: list[Path]) -> Path:
    versions = {d: deb_field(d, "Version") for d in debs}
    return max(debs, key=functools.cmp_to_key(lambda a, b: _compare(versions[a], versions[b])))


def _cached(dest: Path) -> dict[str, Path] | None:
    found = {p: sorted(dest.glob(f"{p}_*.deb")) for p in PACKAGES}
    if not all(found.values()):
        return None
    return {p: _newest(f) for p, f in found.items()}


def _apt_options(root: Path, arch: str) -> list[str]:
    opts = {
        "Dir::Etc::SourceList": root / "etc/sources.list",
        "Dir::Etc::SourceParts": "/dev/null",
        "Dir::Etc::Preferences": "/dev/null",  # the machine's pinning is about its own release
        "Dir::Etc::PreferencesParts": "/dev/null",
        "Dir::State": root / "state",
        "Dir::Cache": root / "cache",
        "APT::Architecture": arch,
        "APT::Architectures": arch,
    }
    return [x for k, v in opts.items() for x in ("-o", f"{k}={v}")]


def fetch(dest: Path, arch: str = "amd64") -> dict[str, Path]:
    """trixie's PACKAGES as .debs in `dest` (kept there as a cache): package -> .deb.
    Raises Unavailable with the reason when they cannot be had."""
    if not shutil.which("dpkg-deb"):
        raise Unavailable("dpkg-deb not available: cannot read Debian packages")
    dest.mkdir(parents=True, exist_ok=True)
    cached = _cached(dest)
    if cached:
        return cached
    if not shutil.which("apt-get"):
        raise Unavailable(f"apt-get not available: cannot download trixie's QEMU packages into {dest}")
    if not Path(KEYRING).exists():
        raise Unavailable(f"{KEYRING} missing (apt-get install debian-archive-keyring)")
    mirror = machine_mirror()
    # Private apt state next to the cache (same filesystem: finished .debs are renamed in).
    with tempfile.TemporaryDirectory(prefix=".apt-", dir=dest) as tmp:
        root = Path(tmp)
        for d in ("etc", "state/lists/partial", "cache/archives/partial", "download"):
            (root / d).mkdir(parents=True)
        (root / "etc/sources.list").write_text(f"deb [signed-by={KEYRING}] {mirror} {SUITE} main\n")
        apt = ["apt-get", "-q", *_apt_options(root, arch)]
        # `pkg/trixie`: from that release only, never the machine's installed version.
        for cmd in (["update"], ["download", *(f"{p}/{SUITE}" for p in PACKAGES)]):
            r = subprocess.run(
                [*apt, *cmd], cwd=root / "download", capture_output=True, text=True, timeout=900, check=False
            )
            # apt-get update exits 0 when an index could not be fetched: look for the index.
            no_index = cmd == ["update"] and not any(
                (root / "state/lists").glob(f"*_dists_{SUITE}_*Packages*")
            )
            if r.returncode != 0 or no_index:
                lines = [x for x in r.stderr.splitlines() if "unsandboxed" not in x]
                errors = [x for x in lines if x[:2] in ("E:", "W:")] or lines
                raise Unavailable(
                    f"apt-get {cmd[0]} of {SUITE} from {mirror} failed: {(errors or ['no output'])[0]}"
                )
        for deb in (root / "download").glob("*.deb"):
            deb.rename(dest / deb.name)
    cached = _cached(dest)
    if not cached:
        missing = [p for p in PACKAGES if not any(dest.glob(f"{p}_*.deb"))]
        raise Unavailable(f"apt-get download from {mirror} {SUITE} gave no .deb for {', '.join(missing)}")
    return cached
