from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from surveys.signals import response_recorded

        from . import receivers

        response_recorded.connect(receivers.mark_response_days, dispatch_uid="reports-dirty-days")
