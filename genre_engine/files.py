"""Writing a file so that a reader never sees it half written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_write(path: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path`` to write to; on success it replaces ``path`` in one step.

    The temporary file is ``path`` plus ``.tmp``, in the same folder (so the final
    ``os.replace`` is atomic on one file system). If the ``with`` body raises, the temporary
    file is removed and ``path`` is left as it was: a crash or Ctrl-C mid-write never leaves a
    truncated checkpoint or cache entry behind. The folder must exist.

    Example::

        with atomic_write(Path("model.pt")) as tmp:
            torch.save(payload, tmp)
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
