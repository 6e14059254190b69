from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from surveys.errors import DomainError


def exception_handler(exc, context):
    """DRF's handler, plus domain errors from services as 4xx with their message and field."""
    if isinstance(exc, DomainError):
        return Response(exc.as_dict(), status=exc.status or status.HTTP_400_BAD_REQUEST)
    return drf_exception_handler(exc, context)
