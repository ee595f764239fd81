"""Customer photos: an image file copied into the data directory (private, 0600)."""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

from frontdesk.data.errors import ValidationFailed

IMAGE_TYPES = {".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp"}
MAX_BYTES = 10 * 1024 * 1024
_MAGIC = {
    b"\xff\xd8\xff": ".jpg",
    b"\x89PNG": ".png",
    b"GIF8": ".gif",
    b"RIFF": ".webp",
    b"BM": ".bmp",
}


def check_photo(path_text: str) -> Path:
    """Validate that ``path_text`` names a readable image file; return its path."""
    path = Path(path_text.strip()).expanduser()
    if not path.is_file():
        raise ValidationFailed("photo_path", f"no file at {path}")
    if path.suffix.lower() not in IMAGE_TYPES:
        raise ValidationFailed("photo_path", "must be an image (jpg, png, gif, webp, bmp)")
    if path.stat().st_size > MAX_BYTES:
        raise ValidationFailed("photo_path", "is larger than 10 MB")
    with path.open("rb") as handle:
        head = handle.read(4)
    if not any(head.startswith(magic) for magic in _MAGIC):
        raise ValidationFailed("photo_path", "is not a readable image file")
    return path


def store_photo(*, source: str, code: str, data_dir: Path) -> str:
    """Copy the image into ``<data_dir>/photos/<code><ext>``; return the stored relative path."""
    path = check_photo(source)
    folder = data_dir / "photos"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    target = folder / f"{code}{path.suffix.lower()}"
    if path.resolve() != target.resolve():
        shutil.copyfile(path, target)
    os.chmod(target, stat.S_IRUSR | stat.S_IWUSR)
    return str(target.relative_to(data_dir))
