"""An uploaded logo made safe: a PNG, JPEG, WebP or GIF decoded by Pillow within size limits, and
re-encoded as a small PNG (no metadata, no trailing bytes of another format, no script)."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps

ACCEPTED = {"PNG", "JPEG", "WEBP", "GIF"}
MAX_SIDE = 4000  # pixels of the upload, checked from the header before decoding
MAX_PIXELS = 16_000_000  # below Pillow's own bomb limit: a 1 MB file cannot ask for more memory
MAX_HEIGHT = 160  # stored height: three times the 48 px the pages and emails show
MAX_WIDTH = 640


class LogoError(ValueError):
    """A logo that is refused, with the reason in the reader's language."""


@dataclass(frozen=True)
class Logo:
    png: bytes
    width: int
    height: int

    @property
    def digest(self) -> str:
        return hashlib.sha256(self.png).hexdigest()[:16]


def _unreadable() -> LogoError:
    return LogoError(
        _(
            "This file is not a PNG, JPEG, WebP or GIF image (SVG is not accepted), or it is damaged."
        )
    )


def check_size(size: int, *, max_bytes: int) -> None:
    """LogoError for a file larger than `max_bytes` (checked before it is read)."""
    if size > max_bytes:
        raise LogoError(
            _("The logo is %(size)s KB; at most %(limit)s KB is accepted.")
            % {"size": -(-size // 1024), "limit": max_bytes // 1024}
        )


def clean_logo(data: bytes, *, max_bytes: int) -> Logo:
    """The uploaded bytes as a safe PNG, or LogoError saying what is wrong."""
    check_size(len(data), max_bytes=max_bytes)
    with warnings.catch_warnings():
        # Pillow warns before it raises for huge images: treat the warning as a refusal too.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=sorted(ACCEPTED)) as probe:
                width, height = probe.size
                if width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS:
                    raise LogoError(
                        _(
                            "The logo is %(w)s × %(h)s pixels; at most %(max)s on a side is accepted."
                        )
                        % {"w": width, "h": height, "max": MAX_SIDE}
                    )
                probe.verify()
            with Image.open(io.BytesIO(data), formats=sorted(ACCEPTED)) as image:
                image.seek(0)  # a GIF or WebP animation: its first frame
                image.load()
                picture = ImageOps.exif_transpose(image).convert("RGBA")
        except LogoError:
            raise
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            # Pillow refuses before we can read the size: far more pixels than a logo has.
            raise LogoError(
                _("The logo has too many pixels; at most %(max)s on a side is accepted.")
                % {"max": MAX_SIDE}
            ) from None
        except (OSError, SyntaxError, ValueError, EOFError):
            raise _unreadable() from None
    # Transparent margins would push the company name away from the visible logo.
    visible = picture.getchannel("A").getbbox()
    if visible:
        picture = picture.crop(visible)
    picture.thumbnail((MAX_WIDTH, MAX_HEIGHT), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return Logo(out.getvalue(), picture.width, picture.height)
