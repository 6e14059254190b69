from surveys.errors import DomainError


class FollowUpError(DomainError):
    """A follow-up action the product refuses (400 by default, 409 for a conflicting state)."""
