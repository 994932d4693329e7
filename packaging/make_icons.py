"""Render resources/icon.svg into every icon file the platforms want; run by `make package`.

cairosvg draws each size from the vector (never scaling a bitmap down), Pillow packs the
Windows .ico and the macOS .icns from those renders (docs/dependencies.md).
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import cairosvg
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "resources" / "icon.svg"
# The hicolor theme's usual sizes (freedesktop icon theme spec), plus 1024 for Retina .icns.
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512, 1024)
# What Windows picks from for title bars, the taskbar, Explorer views (256 is the largest).
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# The sizes an .icns carries (each also serves as the @2x of half its size).
ICNS_SIZES = (16, 32, 64, 128, 256, 512, 1024)


def render(svg: Path, size: int) -> Image.Image:
    png = cairosvg.svg2png(url=str(svg), output_width=size, output_height=size)
    if png is None:  # cairosvg returns None only when given write_to
        raise RuntimeError(f"cairosvg returned nothing for {svg}")
    with Image.open(io.BytesIO(png)) as image:
        return image.convert("RGBA")


def make_icons(svg: Path, out: Path) -> list[Path]:
    """Write ``png/<size>.png``, ``icon.ico`` and ``icon.icns`` into ``out``; return them."""
    renders = {size: render(svg, size) for size in PNG_SIZES}
    (out / "png").mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for size, image in renders.items():
        path = out / "png" / f"{size}.png"
        image.save(path)
        written.append(path)
    ico = out / "icon.ico"
    largest = max(ICO_SIZES)
    renders[largest].save(
        ico,
        sizes=[(s, s) for s in ICO_SIZES],
        append_images=[renders[s] for s in ICO_SIZES if s != largest],
    )
    icns = out / "icon.icns"
    renders[max(ICNS_SIZES)].save(
        icns, append_images=[renders[s] for s in ICNS_SIZES if s != max(ICNS_SIZES)]
    )
    return [*written, ico, icns]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="folder to write the icons into")
    parser.add_argument("--svg", type=Path, default=SOURCE, help="the vector source")
    args = parser.parse_args(argv)
    for path in make_icons(args.svg, args.out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
