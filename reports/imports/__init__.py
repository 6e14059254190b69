"""Historical import of responses from CSV (`manage.py import_responses`).

The file is read line by line (csvfile: UTF-8 with or without a BOM, CRLF or LF, quoted multi-line
comments, ',' ';' or tab between fields); its header is checked against the survey (spec); every
row is validated the way the answer page and the touchpoint API validate theirs (rows); valid rows
are written in batches, one transaction each (writing): contacts matched or created, responses
(source "import", with an import_key) and their answers in bulk, and the batch's days marked stale
for the rollups. A crash mid-file leaves whole batches, and importing the file again recognises
every row already stored.
"""

from .csvfile import CsvFile
from .spec import BATCH_SIZE, ImportFileError, ImportSpec, find_survey, plan_import
from .writing import (
    RECOMPUTE_DAYS_LIMIT,
    ImportResult,
    Reject,
    import_rows,
    update_rollups,
)

__all__ = [
    "BATCH_SIZE",
    "RECOMPUTE_DAYS_LIMIT",
    "CsvFile",
    "ImportFileError",
    "ImportResult",
    "ImportSpec",
    "Reject",
    "find_survey",
    "import_rows",
    "plan_import",
    "update_rollups",
]
