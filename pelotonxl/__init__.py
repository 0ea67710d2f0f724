"""peloton_xl: every Peloton workout in an Excel workbook.

Data flows one way: Peloton API (peloton/) -> local store of raw JSON (peloton/store.py, filled by
peloton/sync.py) -> pandas tables and the Dashboard (model/) -> workbook (xlsx/ headless, excel/
through xlwings). The edges are cli.py (`peloton-xl`, `python peloton_xl.py`) and ribbon.py.
"""

__version__ = "0.2.0"  # the one place: pyproject.toml, --version and the workbook upgrade read it
