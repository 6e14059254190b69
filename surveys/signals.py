"""Signals other apps listen to, so that the survey core does not import them."""

from django.dispatch import Signal

# Sent once a response and its answers are committed, with `response` (answers prefetchable).
# Receivers run in the request that stored the answer: keep them cheap (decide, then enqueue).
response_recorded = Signal()

# Sent after a delivery-funnel step of an invitation changed (first click, bounce), with
# `invitation` (its survey_id, sent_at and is_test loaded). Keep receivers cheap.
invitation_changed = Signal()
