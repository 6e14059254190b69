"""Signals other apps listen to, so that the survey core does not import them."""

from django.dispatch import Signal

# Sent once a response and its answers are committed, with `response` (answers prefetchable).
# Receivers run in the request that stored the answer: keep them cheap (decide, then enqueue).
response_recorded = Signal()
