"""peloton_xl: every Peloton workout in an Excel workbook.

Data flows one way: Peloton API (api.py, auth.py) -> local store of raw JSON
(store.py, driven by sync.py) -> pandas tables (tables.py) -> workbook
(workbook_file.py headless, excel_live.py through xlwings).
"""

__version__ = "0.1.0"
