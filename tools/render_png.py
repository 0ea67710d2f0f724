"""Render the top of one sheet of a workbook to a PNG with LibreOffice, for the README.

    python tools/render_png.py PelotonDemo.xlsm Workouts docs/images/workouts.png --rows 24 --cols 11
    python tools/render_png.py PelotonDemo.xlsm Dashboard docs/images/dashboard.png --as-is

Works on a throw-away copy (other sheets removed, rows cut, page set to landscape, fit to one
page), so the workbook itself is never touched. With --as-is the copy keeps every part and only
hides the other sheets: charts keep the data they point at on those sheets, and the sheet prints
with its own page setup (the Dashboard fits itself to one landscape page). Needs soffice and
pdftoppm (LibreOffice, poppler).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import openpyxl
from openpyxl.worksheet.properties import PageSetupProperties


def render(workbook: Path, sheet: str, out: Path, rows: int, cols: int, dpi: int = 110, as_is: bool = False) -> Path:
    for tool in ("soffice", "pdftoppm"):
        if shutil.which(tool) is None:
            raise SystemExit(f"render_png: {tool} is not installed (apt-get install libreoffice-calc poppler-utils)")
    with tempfile.TemporaryDirectory(prefix="render-") as tmp:
        tmp_path = Path(tmp)
        copy = tmp_path / ("render" + workbook.suffix if as_is else "render.xlsx")
        if as_is:
            _copy_showing_only(workbook, sheet, copy)
        else:
            _trimmed_copy(workbook, sheet, copy, rows, cols)
        return _to_png(copy, tmp_path, out, dpi)


def _copy_showing_only(workbook: Path, sheet: str, copy: Path) -> None:
    """A byte-for-byte copy except workbook.xml, where every other sheet is hidden (not printed)."""
    with zipfile.ZipFile(workbook) as source, zipfile.ZipFile(copy, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "xl/workbook.xml":
                data = _only_sheet_visible(data.decode("utf-8"), sheet, workbook.name).encode("utf-8")
            target.writestr(info, data)


def _only_sheet_visible(xml: str, sheet: str, book_name: str) -> str:
    tags = re.findall(r"<(?:\w+:)?sheet\b[^>]*>", xml)
    names = [re.search(r'\bname="([^"]*)"', tag).group(1) for tag in tags]
    if sheet not in names:
        raise SystemExit(f"render_png: {book_name} has no sheet {sheet!r}")
    for tag, name in zip(tags, names, strict=False):
        state = "visible" if name == sheet else "hidden"
        new = re.sub(r'\sstate="[^"]*"', "", tag)
        new = new[:-2] + f' state="{state}"/>' if new.endswith("/>") else new[:-1] + f' state="{state}">'
        xml = xml.replace(tag, new, 1)
    index = names.index(sheet)
    return re.sub(r'\bactiveTab="\d+"', f'activeTab="{index}"', xml)


def _trimmed_copy(workbook: Path, sheet: str, copy: Path, rows: int, cols: int) -> None:
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


def _to_png(copy: Path, tmp_path: Path, out: Path, dpi: int) -> Path:
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(copy),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    pdf = str(tmp_path / "render.pdf")
    page = ["-r", str(dpi), "-f", "1", "-l", "1", "-singlefile"]
    subprocess.run(["pdftoppm", *page, pdf, str(tmp_path / "page")], check=True, timeout=60)
    width, height = _content_size(tmp_path / "page.ppm")
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            *page,
            "-x",
            "0",
            "-y",
            "0",
            "-W",
            str(width),
            "-H",
            str(height),
            pdf,
            str(tmp_path / "page"),
        ],
        check=True,
        timeout=60,
    )
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
        row = pixels[y * stride : (y + 1) * stride]
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
    p.add_argument(
        "--as-is",
        action="store_true",
        help="render the sheet as the workbook has it (charts included): only hide the other sheets",
    )
    args = p.parse_args(argv)
    print(render(args.workbook, args.sheet, args.out, args.rows, args.cols, args.dpi, args.as_is))
    return 0


if __name__ == "__main__":
    sys.exit(main())
