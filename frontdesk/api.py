"""``frontdesk serve``: the HTTP JSON API for an online booking page or an AI assistant.

FastAPI on uvicorn. The endpoints are plain (sync) functions: FastAPI runs them in its thread
pool, each with its own session from the engine, and they call the same services as the desk
(frontdesk.data.booking_requests). Authentication: ``Authorization: Bearer TOKEN`` with a token
an admin made (``frontdesk tokens add NAME``); 401 without a valid token, 403 without the
scope. Every error is JSON naming the field: ``{"error": ..., "field": ..., "message": ...}``.
"""

# No "from __future__ import annotations": FastAPI reads the dependencies in the
# annotations of functions defined inside create_app at run time.
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from sqlmodel import Session

from frontdesk import __version__
from frontdesk.data import api_tokens
from frontdesk.data import booking_requests as requests_svc
from frontdesk.data.db import read_engine
from frontdesk.data.errors import DatabaseBusy, FrontdeskError, ValidationFailed
from frontdesk.data.retry import Contended, write_transaction

PREFIX = "/api/v1"
TOUCH_EVERY = timedelta(seconds=60)


class BookingRequestBody(BaseModel):
    """A booking request. Give a phone or an email (or both) so that the customer is found
    again; a name for a customer the business does not know yet."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200, examples=["Maria Garcia"])
    phone: str | None = Field(default=None, max_length=40, examples=["+31 6 12345678"])
    email: str | None = Field(default=None, max_length=320, examples=["maria@example.com"])
    service: str = Field(
        min_length=1, max_length=100, description="Service name or id", examples=["Blow-dry"]
    )
    branch: str | None = Field(
        default=None, max_length=100, description="Branch name or id (optional with one branch)"
    )
    staff: str | None = Field(
        default=None, max_length=100, description="Staff member (default: the first one free)"
    )
    start: str = Field(
        min_length=1,
        max_length=40,
        description="ISO 8601 start; without an offset, the business's local time",
        examples=["2026-12-01T14:30"],
    )
    notes: str | None = Field(default=None, max_length=2000)
    source: str | None = Field(
        default=None,
        max_length=100,
        description="Where the request comes from",
        examples=["website"],
    )


class RequestOut(BaseModel):
    request_id: int
    status: str = Field(
        description="booked, pending (held, the business confirms), review, declined"
    )
    message: str
    customer_code: str | None
    customer_created: bool
    booking_id: int | None
    service: str
    branch: str
    staff: str | None
    start: str | None
    end: str | None
    replayed: bool


class ErrorOut(BaseModel):
    error: str
    field: str | None = None
    message: str


class SlotOut(BaseModel):
    start: str
    end: str
    staff: str


class AvailabilityOut(BaseModel):
    service: str
    branch: str
    date: str
    duration_minutes: int
    slots: list[SlotOut]


class UpcomingOut(BaseModel):
    start: str
    end: str
    service: str
    staff: str | None
    branch: str
    status: str


class LookupOut(BaseModel):
    found: bool
    code: str | None = None
    first_name: str | None = None
    name: str | None = None
    can_book_online: bool | None = None
    points: int | None = None
    upcoming: list[UpcomingOut] = []
    notes: list[str] = []


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.error = error
        self.message = message
        self.field = field


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorOut, "description": "Missing, unknown or revoked token"},
    403: {"model": ErrorOut, "description": "The token lacks the scope"},
    422: {"model": ErrorOut, "description": "A field is wrong (named in 'field')"},
}


def _error(status: int, error: str, message: str, field: str | None = None) -> JSONResponse:
    return JSONResponse(
        status_code=status,
        content={"error": error, "field": field, "message": message},
        headers={"WWW-Authenticate": "Bearer"} if status == 401 else None,
    )


def create_app(
    engine: Engine,
    *,
    clock: Callable[[], datetime] | None = None,
    tz: tzinfo | None = None,
) -> FastAPI:
    """The API on ``engine``. ``clock`` and ``tz`` are for tests (default: now, this machine's
    time zone)."""
    now: Callable[[], datetime] = clock or (lambda: datetime.now(UTC))
    reader = read_engine(engine)
    app = FastAPI(
        title="Frontdesk booking API",
        version=__version__,
        description="Booking requests, availability and customer lookup for an online booking "
        "page or an assistant. Authenticate with 'Authorization: Bearer TOKEN'.",
    )
    bearer = HTTPBearer(auto_error=False, description="A token from 'frontdesk tokens add'")

    @app.exception_handler(ApiError)
    def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return _error(exc.status, exc.error, exc.message, exc.field)

    @app.exception_handler(RequestValidationError)
    def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            # (its place in the text is no field: "field" said "1")
            where = first.get("loc", ("body", 0))[-1]
            message = f"the body is not valid JSON (at character {where})"
            return _error(422, "invalid", message, "body")
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "header")]
        field = loc[-1] if loc else None
        if field is None and first.get("type") == "missing" and "body" in first.get("loc", ()):
            return _error(422, "invalid", "the request has no JSON body", "body")
        return _error(422, "invalid", str(first.get("msg", "invalid request")), field)

    @app.exception_handler(FrontdeskError)
    def _frontdesk_error(_request: Request, exc: FrontdeskError) -> JSONResponse:
        return _error(*_describe(exc))

    def token_with(scope: str) -> Callable[..., api_tokens.TokenView]:
        def check(
            credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
        ) -> api_tokens.TokenView:
            token = credentials.credentials if credentials else None
            try:
                with Session(reader) as session:
                    view = api_tokens.authenticate(session=session, token=token, scope=scope)
            except api_tokens.TokenRefused as exc:
                raise ApiError(401, "unauthorized", str(exc)) from None
            except api_tokens.ScopeMissing as exc:
                raise ApiError(403, "forbidden", str(exc)) from None
            last = view.last_used_at
            if last is None or _utc(last) < now() - TOUCH_EVERY:
                write_transaction(engine, lambda s: api_tokens.touch(session=s, token_id=view.id))
            return view

        return check

    @app.post(
        f"{PREFIX}/booking-requests",
        status_code=201,
        response_model=RequestOut,
        responses={
            **ERRORS,
            202: {"model": RequestOut, "description": "Waiting for review at the desk"},
            409: {"model": ErrorOut, "description": "Slot taken, or refused (blocked)"},
        },
        summary="Request a booking (the customer is matched by phone or email, or created)",
    )
    def booking_request(
        body: BookingRequestBody,
        token: Annotated[api_tokens.TokenView, Depends(token_with("bookings"))],
        idempotency_key: Annotated[
            str | None, Header(alias="Idempotency-Key", max_length=200)
        ] = None,
    ) -> JSONResponse:
        data = requests_svc.RequestIn(**body.model_dump())
        actor = api_tokens.api_actor(token)

        def work(session: Session) -> requests_svc.RequestResult:
            return requests_svc.submit_request(
                session=session,
                data=data,
                actor=actor,
                channel=token.name,
                idempotency_key=idempotency_key,
                now=now(),
                tz=tz,
            )

        try:
            result = requests_svc.submit(engine, work)
        except FrontdeskError as exc:
            status, _, message, field = _describe(exc)
            if status < 500:
                write_transaction(
                    engine,
                    lambda s: requests_svc.record_refusal(
                        session=s, actor=actor, channel=token.name, field=field, message=message
                    ),
                )
            raise
        status = {"review": 202, "declined": 409}.get(result.status, 201)
        content = result.as_json()
        if result.status == "declined":
            content = {
                "error": "refused",
                "field": "customer",
                "message": result.message,
                **content,
            }
        return JSONResponse(status_code=status, content=content)

    @app.get(
        f"{PREFIX}/availability",
        response_model=AvailabilityOut,
        responses=ERRORS,
        summary="Free start times of a service at a branch on a day",
    )
    def availability(
        token: Annotated[api_tokens.TokenView, Depends(token_with("bookings"))],
        service: Annotated[str, Query(min_length=1, max_length=100)],
        date: Annotated[str, Query(min_length=1, max_length=20, description="YYYY-MM-DD")],
        branch: Annotated[str | None, Query(max_length=100)] = None,
    ) -> AvailabilityOut:
        with Session(reader) as session:
            found = requests_svc.availability(
                session=session, service=service, branch=branch, day=date, now=now(), tz=tz
            )
        return AvailabilityOut(
            service=found.service,
            branch=found.branch,
            date=found.day.isoformat(),
            duration_minutes=found.duration_minutes,
            slots=[
                SlotOut(start=s.start.isoformat(), end=s.end.isoformat(), staff=s.staff)
                for s in found.slots
            ],
        )

    @app.get(
        f"{PREFIX}/customers/lookup",
        response_model=LookupOut,
        responses={**ERRORS, 409: {"model": ErrorOut, "description": "Ambiguous"}},
        summary="A returning customer by phone or email (name, upcoming bookings, points)",
    )
    def customer_lookup(
        token: Annotated[api_tokens.TokenView, Depends(token_with("customers:read"))],
        phone: Annotated[str | None, Query(max_length=40)] = None,
        email: Annotated[str | None, Query(max_length=320)] = None,
    ) -> LookupOut:
        with Session(reader) as session:
            found = requests_svc.lookup(session=session, phone=phone, email=email, now=now())
        if found is None:
            return LookupOut(found=False)
        return LookupOut(
            found=True,
            code=found.code,
            first_name=found.first_name,
            name=found.name,
            can_book_online=found.can_book_online,
            points=found.points,
            upcoming=[
                UpcomingOut(
                    start=u.start.isoformat(),
                    end=u.end.isoformat(),
                    service=u.service,
                    staff=u.staff,
                    branch=u.branch,
                    status=u.status,
                )
                for u in found.upcoming
            ],
            notes=found.notes,
        )

    return app


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _describe(exc: FrontdeskError) -> tuple[int, str, str, str | None]:
    """(HTTP status, error code, message, field) of a service error."""
    if isinstance(exc, ValidationFailed):
        return 422, "invalid", exc.message, exc.field
    if isinstance(exc, requests_svc.KeyReused):
        return 422, "invalid", exc.message, exc.field
    if isinstance(exc, requests_svc.SlotTaken):
        return 409, "slot_taken", exc.message, exc.field
    if isinstance(exc, requests_svc.Ambiguous):
        return 409, "ambiguous", str(exc), "phone"
    if isinstance(exc, DatabaseBusy | Contended):
        return 503, "busy", str(exc), None
    return 422, "refused", str(exc), None
