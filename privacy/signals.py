"""Signals for apps that keep their own copies of a customer's personal data (follow-ups...)."""

from django.dispatch import Signal

# Sent inside the erasure transaction with `contact` (already anonymised in the surveys tables,
# its pk unchanged). Receivers erase their copies in the same transaction; a receiver may return
# {"<what>": <rows changed>} and the counts are added to the erasure's result. An exception rolls
# the whole erasure back.
erase_customer_data = Signal()

# Sent inside the retention run with `response_ids` (a list of Response pks whose personal data
# was just erased because they are older than RESPONSE_RETENTION_MONTHS). Same contract.
erase_response_data = Signal()

# Sent while exporting with `contact`; each receiver returns a dict that is merged into that
# contact's part of the export (e.g. {"followups": [...]}).
export_customer_data = Signal()
