from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from surveys.signals import invitation_changed, response_recorded

        from . import receivers

        response_recorded.connect(receivers.mark_response_days, dispatch_uid="reports-dirty-days")
        invitation_changed.connect(receivers.mark_invitation_day, dispatch_uid="reports-funnel")
        # Rollups hold attribute values; erased ones must leave them too.
        from privacy import signals as privacy_signals

        privacy_signals.erase_customer_data.connect(
            receivers.mark_contact_days, dispatch_uid="reports-erased-contact"
        )
        privacy_signals.erase_response_data.connect(
            receivers.mark_erased_response_days, dispatch_uid="reports-erased-responses"
        )
