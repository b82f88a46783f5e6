"""glibc's mmap threshold, set through `mallopt`: the size from which an allocation gets a
mapping of its own, unmapped when freed. The CLI lowers it so that the writers' freed big
blocks go back to the system (qpack.cli); the scan's worker processes raise it so that each
keeps the blocks it frees for its next file (qpack.inventory)."""

from __future__ import annotations

M_MMAP_THRESHOLD = -3  # malloc.h


def set_mmap_threshold(nbytes: int) -> None:
    """Fix glibc's mmap threshold at `nbytes` (glibc then stops adjusting it to the blocks
    freed). A no-op where the C library has no mallopt."""
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return
    mallopt(M_MMAP_THRESHOLD, nbytes)
