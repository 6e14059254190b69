class DomainError(Exception):
    """A request the product refuses, with a message for people. Views and the API map it to 4xx.

    `field` names the offending field (for API errors), `status` the HTTP status (default 400).
    """

    status = 400

    def __init__(self, message: str, *, field: str | None = None, status: int | None = None):
        super().__init__(message)
        self.field = field
        if status is not None:
            self.status = status

    def as_dict(self) -> dict:
        """The API's body: the message, also under the field it names."""
        if self.field:
            return {self.field: [str(self)], "detail": str(self)}
        return {"detail": str(self)}


class FrozenQuestionError(DomainError):
    status = 409


class AlreadyAnswered(DomainError):
    status = 409


class InvitationClosed(DomainError):
    status = 410
