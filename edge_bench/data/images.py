"""Opening dataset images: any failure to read or decode one is a one-line DataError.

PIL raises many kinds for a bad file (UnidentifiedImageError, OSError for a
truncated one, DecompressionBombError past twice `Image.MAX_IMAGE_PIXELS`,
SyntaxError, ValueError and struct.error from broken headers, EOFError); all
of them end here, with the file named, never as a traceback.
"""

from __future__ import annotations

from pathlib import Path


def shown(path: Path | str) -> str:
    """A path as it goes into a one-line message: as is when printable, else its repr."""
    text = str(path)
    return text if text.isprintable() else repr(text)


def open_rgb(path: Path):
    """The image at `path` decoded as an RGB PIL image; a DataError naming the file when it cannot be."""
    from PIL import Image

    from edge_bench.errors import DataError

    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except Image.DecompressionBombError as exc:
        raise DataError(f"image refused as a decompression bomb: {shown(path)} ({' '.join(str(exc).split())[:200]})",
                        hint="check the file; PIL.Image.MAX_IMAGE_PIXELS sets the limit") from None
    except Exception as exc:  # PIL's decoders raise many kinds for a broken file (see the module docstring)
        reason = " ".join(str(exc).split())[:200]
        raise DataError(f"image does not decode: {shown(path)} ({type(exc).__name__}{': ' + reason if reason else ''})") from None
