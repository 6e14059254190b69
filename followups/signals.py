"""What the follow-up services announce, so that they need not know the Celery tasks that act
on it: followups.receivers queues those tasks once the transaction commits."""

from django.dispatch import Signal

# A follow-up was opened: its owner is to be told. Sent with follow_up_id.
follow_up_opened = Signal()
# Webhook deliveries were written and wait to be sent. Sent with delivery_ids.
webhook_deliveries_queued = Signal()
# A survey's CSAT alert was raised: its owner is to be mailed. Sent with survey_id and data.
csat_alert_raised = Signal()
