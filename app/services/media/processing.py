"""Photos in, safe photos out: orientation fixed, metadata gone, sized for MMS (Pillow).

Everything that reaches the media store or a client as an image has been decoded and
re-encoded here, so no EXIF (GPS position, camera serial), XMP or comment survives: the
pixels are copied into a fresh image and saved without `exif=`. `ImageOps.exif_transpose`
runs first, or a phone photo taken upright would come out on its side.
"""

from __future__ import annotations

import io
import math
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

try:  # colour management is optional in Pillow builds (the wheels include it)
    from PIL import ImageCms
except ImportError:  # pragma: no cover
    ImageCms = None

try:  # iPhone photos arrive as HEIC
    from pillow_heif import register_heif_opener

    register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a declared dependency
    pass

# Formats a phone or a carrier hands us as a photo. Anything else is not decoded here.
PHOTO_FORMATS = frozenset({"JPEG", "MPO", "PNG", "GIF", "WEBP", "HEIF", "AVIF"})
# A decompression bomb is refused from its header, before any pixel is decoded. 64 MP covers
# a 48 MP phone camera; beyond that the decoded image alone would take hundreds of MB.
MAX_PIXELS = 64_000_000

# What one upload request may ask this process to decode: each photo, and all of them together
# (ten 8000×8000 PNGs cost 14.6 s and 738 MB in one web process). Checked from the headers,
# before any pixel is decoded. 50 MP covers a 48 MP phone camera; 150 MP ten 12 MP photos.
MAX_PIXELS_PER_PHOTO = 50_000_000
MAX_PIXELS_PER_REQUEST = 150_000_000

# Twilio MMS: at most 10 files and 5 MB per message; carriers cope best near 600 KB a photo.
MMS_MAX_FILES = 10
MMS_MAX_TOTAL_BYTES = 5 * 1024 * 1024
MMS_TARGET_BYTES = 600 * 1024
MMS_MAX_SIDE = 1600
STORED_MAX_SIDE = 2048  # inbound photos kept for reading in the thread
THUMB_MAX_SIDE = 320
QUALITIES = (82, 74, 66, 58)


class ImageRejected(ValueError):
    """The file is not a photo we can safely read; the message is shown to the person."""


@dataclass(frozen=True)
class ProcessedPhoto:
    data: bytes  # JPEG, no metadata
    thumbnail: bytes  # JPEG, no metadata
    width: int
    height: int
    content_type: str = "image/jpeg"


def _open(data: bytes, label: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # Pillow warns (and past twice its limit raises) on huge images; either is a refusal.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageRejected(f"{label} is too large to process (over {MAX_PIXELS // 1_000_000} megapixels).") from None
    except UnidentifiedImageError:
        raise ImageRejected(f"{label} is not a photo we can read (JPEG, PNG, HEIC, WebP or GIF).") from None
    except (OSError, ValueError, SyntaxError):
        raise ImageRejected(f"{label} looks damaged and could not be read.") from None
    if image.format not in PHOTO_FORMATS:
        raise ImageRejected(f"{label} is not a photo we can read (JPEG, PNG, HEIC, WebP or GIF).")
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        megapixels = width * height / 1_000_000
        raise ImageRejected(f"{label} is too large to process ({megapixels:.0f} megapixels; "
                            f"the limit is {MAX_PIXELS // 1_000_000}).")
    return image


def check_pixel_budget(files: list[tuple[str, bytes]]) -> None:
    """ImageRejected when a photo, or all of them together, would decode to more pixels than the
    budget allows; reads only each file's header. Files that are not images are left to `_open`."""
    total = 0
    for label, data in files:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                width, height = Image.open(io.BytesIO(data)).size
        except (Image.DecompressionBombError, UnidentifiedImageError, OSError, ValueError, SyntaxError):
            continue
        pixels = width * height
        if pixels > MAX_PIXELS_PER_PHOTO:
            raise ImageRejected(f"{label} is too large to send ({width}×{height}, {pixels / 1e6:.0f} megapixels; "
                                f"at most {MAX_PIXELS_PER_PHOTO // 1_000_000} per photo).")
        total += pixels
        if total > MAX_PIXELS_PER_REQUEST:
            raise ImageRejected(f"These photos are too large together (over {MAX_PIXELS_PER_REQUEST // 1_000_000} "
                                "megapixels). Send fewer at once, or smaller ones.")


def _bounded_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    width, height = size
    scale = min(1.0, max_side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


# Modes whose resize is only nearest-neighbour (palette, bilevel) or that need a conversion first:
# converted before shrinking, as before. Every other mode is shrunk first.
_CONVERT_BEFORE_SHRINKING = frozenset({"P", "PA", "1", "I", "I;16", "F"})


def _decoded(image: Image.Image, max_side: int, label: str) -> Image.Image:
    """Pixels only, upright, RGB, no larger than `max_side` (metadata is not carried over).

    A JPEG decodes in draft mode (libjpeg at 1/2, 1/4 or 1/8 scale); other formats (PNG, WebP,
    HEIC) have none, so they are shrunk right after decoding: transposing, colour conversion and
    the alpha flattening then work on the small copy, and the full-size pixels are never held
    twice (a 50 MP PNG cost about 320 MB of peak memory with its transposed copy, half after).
    """
    target = _bounded_size(image.size, max_side)
    if image.format in ("JPEG", "MPO"):
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still covers the target:
        # a 12 MP photo then never exists in memory at full size.
        image.draft("RGB", (math.ceil(target[0]), math.ceil(target[1])))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image.load()
            if image.mode not in _CONVERT_BEFORE_SHRINKING:
                image.thumbnail(_bounded_size(image.size, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
            upright = ImageOps.exif_transpose(image)
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombWarning, Image.DecompressionBombError):
        raise ImageRejected(f"{label} looks damaged and could not be read.") from None
    upright = _to_srgb(upright)
    if upright.mode in ("RGBA", "LA", "PA") or (upright.mode == "P" and "transparency" in upright.info):
        rgba = upright.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))  # JPEG has no alpha: lay it on white
        flat.paste(rgba, mask=rgba.getchannel("A"))
        upright = flat
    elif upright.mode != "RGB":
        upright = upright.convert("RGB")
    upright.thumbnail(_bounded_size(upright.size, max_side), Image.Resampling.LANCZOS, reducing_gap=3.0)
    # A fresh image holds the pixels and nothing else: no exif, xmp, comment or icc in .info.
    clean = Image.new("RGB", upright.size)
    clean.paste(upright)
    return clean


def _to_srgb(image: Image.Image) -> Image.Image:
    """Convert an embedded colour profile (Display P3 on iPhones) to sRGB, then drop it."""
    icc = image.info.get("icc_profile")
    if not icc or image.mode not in ("RGB", "RGBA"):
        return image
    if ImageCms is None:
        return image
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"),
                                         outputMode=image.mode) or image
    except (OSError, ValueError, ImageCms.PyCMSError):
        return image  # an unreadable profile: keep the pixels as they are


def _jpeg(image: Image.Image, quality: int) -> bytes:
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, optimize=True, progressive=True)
    return out.getvalue()


def _fit(image: Image.Image, budget: int) -> bytes:
    """The best-looking JPEG of `image` within `budget` bytes: lower quality first, then smaller."""
    while True:
        for quality in QUALITIES:
            data = _jpeg(image, quality)
            if len(data) <= budget:
                return data
        if max(image.size) <= THUMB_MAX_SIDE:
            return data  # a thumbnail-sized JPEG is far below any budget we set; never loop
        image = image.resize(_bounded_size(image.size, int(max(image.size) * 0.8)), Image.Resampling.LANCZOS)


def _thumbnail(image: Image.Image) -> bytes:
    small = image.copy()
    small.thumbnail((THUMB_MAX_SIDE, THUMB_MAX_SIDE), Image.Resampling.LANCZOS)
    return _jpeg(small, 72)


def mms_budget(count: int) -> int:
    """Bytes one of `count` photos may take so the message stays within Twilio's total."""
    return min(MMS_TARGET_BYTES, (MMS_MAX_TOTAL_BYTES - 64 * 1024) // max(1, count))


def prepare_for_mms(data: bytes, label: str, budget: int = MMS_TARGET_BYTES) -> ProcessedPhoto:
    """An uploaded photo made ready to send: upright, stripped, at most 1600 px, within `budget`."""
    with _open(data, label) as image:
        pixels = _decoded(image, MMS_MAX_SIDE, label)
    encoded = _fit(pixels, budget)
    return ProcessedPhoto(data=encoded, thumbnail=_thumbnail(pixels), width=pixels.width, height=pixels.height)


def prepare_for_storage(data: bytes, label: str) -> ProcessedPhoto:
    """A received photo made safe to keep and show: upright, stripped, at most 2048 px."""
    with _open(data, label) as image:
        pixels = _decoded(image, STORED_MAX_SIDE, label)
    return ProcessedPhoto(data=_jpeg(pixels, 85), thumbnail=_thumbnail(pixels), width=pixels.width,
                          height=pixels.height)
