"""Render the top of one sheet of a workbook to a PNG with LibreOffice, for the README.

    python tools/render_png.py PelotonDemo.xlsm Workouts docs/images/workouts.png --rows 24 --cols 11

Works on a throw-away copy (other sheets removed, rows cut, page set to landscape, fit to one
page), so the workbook itself is never touched. Needs soffice and pdftoppm (LibreOffice, poppler).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import openpyxl
from openpyxl.worksheet.properties import PageSetupProperties


def render(workbook: Path, sheet: str, out: Path, rows: int, cols: int, dpi: int = 110) -> Path:
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"render_png: {tool} is not installed (apt-get install libreoffice-calc poppler-utils)")
    with tempfile.TemporaryDirectory(prefix="render-") as tmp:
        tmp_path = Path(tmp)
        copy = tmp_path / "render.xlsx"
        book = openpyxl.load_workbook(workbook)
        if sheet not in book.sheetnames:
            raise SystemExit(f"render_png: {workbook.name} has no sheet {sheet!r}")
        for name in book.sheetnames:
            if name != sheet:
                del book[name]
        ws = book[sheet]
        ws.sheet_state = "visible"
        if ws.max_row > rows:
            ws.delete_rows(rows + 1, ws.max_row - rows)
        last_col = openpyxl.utils.get_column_letter(min(cols, ws.max_column))
        ws.print_area = f"A1:{last_col}{rows}"
        for table in ws.tables.values():  # keep the table inside what is left
            first, _ = table.ref.split(":")
            table.ref = f"{first}:{openpyxl.utils.get_column_letter(ws.max_column)}{min(rows, ws.max_row)}"
            table.autoFilter.ref = table.ref
        ws.page_setup.orientation = "landscape"
        ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 1
        ws.print_options.gridLines = False
        for side in ("left", "right", "top", "bottom"):
            setattr(ws.page_margins, side, 0.2)
        ws.page_margins.header = ws.page_margins.footer = 0
        ws.oddHeader.center.text = ws.oddFooter.center.text = ""
        book.save(copy)
        subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                        "--convert-to", "pdf", "--outdir", str(tmp_path), str(copy)],
                       check=True, capture_output=True, timeout=180)
        pdf = str(tmp_path / "render.pdf")
        page = ["-r", str(dpi), "-f", "1", "-l", "1", "-singlefile"]
        subprocess.run(["pdftoppm", *page, pdf, str(tmp_path / "page")], check=True, timeout=60)
        width, height = _content_size(tmp_path / "page.ppm")
        subprocess.run(["pdftoppm", "-png", *page, "-x", "0", "-y", "0", "-W", str(width), "-H", str(height),
                        pdf, str(tmp_path / "page")], check=True, timeout=60)
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "page.png", out)
    return out


def _content_size(ppm: Path, margin: int = 12) -> tuple[int, int]:
    """Width and height up to the last non-white pixel (plus a margin) of a binary PPM page."""
    data = ppm.read_bytes()
    magic, width, height, maxval, pixels = data.split(maxsplit=4)
    assert magic == b"P6" and maxval == b"255"
    width, height = int(width), int(height)
    stride = width * 3
    right = bottom = 0
    for y in range(height):
        row = pixels[y * stride:(y + 1) * stride]
        stripped = row.rstrip(b"\xff")
        if stripped:
            bottom = y
            right = max(right, len(stripped) // 3)
    return min(width, right + margin), min(height, bottom + margin)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("workbook", type=Path)
    p.add_argument("sheet")
    p.add_argument("out", type=Path)
    p.add_argument("--rows", type=int, default=25)
    p.add_argument("--cols", type=int, default=12)
    p.add_argument("--dpi", type=int, default=110)
    args = p.parse_args(argv)
    print(render(args.workbook, args.sheet, args.out, args.rows, args.cols, args.dpi))
    return 0


if __name__ == "__main__":
    sys.exit(main())
