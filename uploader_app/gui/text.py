"""Short display texts for table cells and one-line summaries (plain words, no units jargon)."""

from __future__ import annotations

import logging

from uploader_app.models import Index, IndexModel, Target, UploadKind
from uploader_app.validation.messages import format_size

logger = logging.getLogger(__name__)

# What each model option looks at, in words a non-technical person reads at a glance.
OPTION_WORDS = {"visual": "sight", "audio": "sound"}


def clock(seconds: float | None) -> str:
    """``0:02``, ``12:04``, ``1:02:03``; empty when unknown."""
    if seconds is None:
        return ""
    whole = round(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def resolution(width: int | None, height: int | None) -> str:
    return f"{width}×{height}" if width and height else ""


def model_name(model: IndexModel) -> str:
    """``marengo3.0`` -> ``Marengo 3.0``."""
    family = model.family
    if family is None:
        return model.name
    version = model.name[len(family.value) :].strip()
    return f"{family.value.capitalize()} {version}".strip()


def model_summary(index: Index) -> str:
    """``Marengo 3.0 · sight and sound`` (one part per model)."""
    parts = []
    for model in index.models:
        words = [OPTION_WORDS.get(o, o) for o in model.options]
        looks = " and ".join(words)
        parts.append(f"{model_name(model)} · {looks}" if looks else model_name(model))
    return "; ".join(parts)


def _span(seconds: float) -> str:
    """``4 s``, ``60 min``, ``2 h``: the limits are round numbers."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g} h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"


def _pixels(short_side: int) -> str:
    """``360p``; ``4K`` for 2160 lines, as people name that size."""
    return "4K" if short_side == 2160 else f"{short_side}p"


def limits_line(index: Index, api_version: str) -> str:
    """``Videos of 4 s to 2 h, 360p to 4K, up to 10 GB`` for the index's strictest model."""
    # Once the index list is in, after the first frame (docs/gui.md, "Start-up").
    from uploader_app.validation.limits import MAX_SIZE, limits_for  # noqa: PLC0415

    limits = limits_for(Target.for_index(index))
    biggest = MAX_SIZE[UploadKind.MULTIPART if api_version == "v1.3" else UploadKind.TASK_FILE]
    text = (
        f"Videos of {_span(limits.duration.min_seconds)} to "
        f"{_span(limits.duration.max_seconds)}, {limits.min_side}p to "
        f"{_pixels(limits.max_short_side)}, up to {format_size(biggest)}"
    )
    if limits.require_audio:
        text += ", with sound"
    return text


def problem_text(error: BaseException) -> str:
    """A failure in plain words with what to do; never a code or an exception name."""
    # Loaded by the failure, long after the first frame (docs/gui.md, "Start-up").
    from uploader_app.api.errors import ApiError  # noqa: PLC0415
    from uploader_app.jobs.engine import STORE_PROBLEM  # noqa: PLC0415
    from uploader_app.store import StoreWriteError  # noqa: PLC0415

    if isinstance(error, ApiError):
        hint = f" {error.hint}" if error.hint else ""
        return f"{error.user_message}{hint}"
    if isinstance(error, StoreWriteError):  # a full disk, as the uploads' banner says it
        return f"{STORE_PROBLEM[2]} {STORE_PROBLEM[3]}"
    logger.error("unexpected failure: %r", error)
    return "Something unexpected went wrong. Try again; the log file has the details."
