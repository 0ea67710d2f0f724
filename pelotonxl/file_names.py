"""The workbook's file names, apart from model/workbook.py so that `--help` (which quotes them) loads
nothing else of the package."""

WORKBOOK_NAME = (
    "PelotonWorkbook.xlsm"  # the template's file name; the installed command's default workbook, in the current folder
)
# A checkout's default, beside peloton_xl.py (so Excel finds it) and never the git-tracked template of the
# same folder: a refresh there would make every `git pull` abort. .gitignore lists it.
CHECKOUT_WORKBOOK_NAME = "MyPelotonWorkbook.xlsm"
DEMO_WORKBOOK_NAME = "PelotonDemo.xlsm"
