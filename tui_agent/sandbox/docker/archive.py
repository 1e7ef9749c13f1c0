"""A tar for the engine's archive endpoint (`put_archive`) that ends at its end-of-archive blocks.

Python pads a tar to a 10 KiB record. Podman's copier stops reading at the two end-of-archive blocks and exits, so the
padding it never reads can fail the upload with a 500, "passing bulk input to subprocess: write |1: broken pipe"
(containers/buildah#6573), whenever its subprocess wins the race. Without the padding there is nothing left to write.
"""

from __future__ import annotations

import io
import tarfile
from typing import Iterable


def tar_bytes(entries: Iterable[tuple[tarfile.TarInfo, bytes | None]]) -> bytes:
    """A tar of `entries` (a header, and the file's bytes or None), ending with the two end-of-archive blocks."""
    buf = io.BytesIO()
    tar = tarfile.open(fileobj=buf, mode="w")
    for info, data in entries:
        tar.addfile(info, None if data is None else io.BytesIO(data))
    end = tar.offset
    tar.close()
    return buf.getvalue()[: end + 2 * tarfile.BLOCKSIZE]
