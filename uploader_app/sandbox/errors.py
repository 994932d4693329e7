"""Vendor-shaped error answers: ``{"code", "message"}`` with the vendor's wording
(docs/api-notes.md §5)."""

from __future__ import annotations

import json
import logging

from werkzeug.wrappers import Response

logger = logging.getLogger(__name__)


class ApiError(Exception):
    """An error answer; handlers raise it and the app turns it into a JSON response."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def response(self) -> Response:
        body = json.dumps({"code": self.code, "message": self.message})
        return Response(
            body, status=self.status, headers=self.headers, content_type="application/json"
        )


def parameter_invalid(*names: str, detail: str = "") -> ApiError:
    if len(names) == 1:
        message = f"The {names[0]} parameter is invalid."
    elif names:
        message = f"The following parameters are invalid: {', '.join(names)}."
    else:
        message = "The request contains some invalid parameters."
    return ApiError(400, "parameter_invalid", f"{message} {detail}".strip())


def parameter_not_provided(*names: str) -> ApiError:
    if len(names) == 1:
        message = f"The {names[0]} parameter is required but was not provided."
    else:
        message = f"The following required parameters were not provided: {', '.join(names)}."
    return ApiError(400, "parameter_not_provided", message)


def parameter_unknown(*names: str) -> ApiError:
    if len(names) == 1:
        message = f"The {names[0]} parameter is unknown. Remove it and try again."
    else:
        message = (
            f"The following parameters are unknown: {', '.join(names)}. Remove them and try again."
        )
    return ApiError(400, "parameter_unknown", message)


def resource_not_exist(resource_id: str, collection: str, status: int = 400) -> ApiError:
    # 404 only where the spec lists it for the operation: retrieving one indexed asset or
    # video, POST .../indexed-assets and the multipart-upload endpoints. Everywhere else
    # (tasks, indexes, assets, the lists of videos and indexed assets, deleting a video or an
    # indexed asset) the spec lists only 400, so an unknown id is a 400 there.
    return ApiError(
        status,
        "resource_not_exist",
        f"Resource with id {resource_id} does not exist in {collection}.",
    )


def api_key_invalid() -> ApiError:
    return ApiError(
        401,
        "api_key_invalid",
        "API Key is either invalid or expired. Please check your API key or generate a new "
        "one from the dashboard and try again.",
    )


def too_many_requests(limit: int, window: str, retry_after: int) -> ApiError:
    return ApiError(
        429,
        "too_many_requests",
        f"You have exceeded the rate limit ({limit} requests per {window}). "
        f"Please try again later after {retry_after} seconds.",
    )


def too_many_requests_bare() -> ApiError:
    """A 429 with no wait in its headers or message (fault injection: ``rate_limit_bare``)."""
    return ApiError(429, "too_many_requests", "You have exceeded the rate limit.")


def usage_limit_exceeded() -> ApiError:
    """The plan's allowance is used up. The vendor lists the code for /tasks without its
    status; 400 is assumed, the status the spec gives /tasks errors (docs/sandbox.md)."""
    return ApiError(
        400,
        "usage_limit_exceeded",
        "You have exceeded the usage limit of your plan. Please upgrade your plan.",
    )


def api_upgrade_required(version: str, current: str) -> ApiError:
    return ApiError(
        400,
        "api_upgrade_required",
        f"This endpoint is supported starting with version {version}. Your version is {current}.",
    )


def endpoint_not_found(path: str) -> ApiError:
    return ApiError(404, "not_found", f"The requested URL {path} was not found on this server.")


def method_not_allowed(method: str, path: str) -> ApiError:
    return ApiError(405, "method_not_allowed", f"The method {method} is not allowed for {path}.")


def task_cannot_be_deleted(task_id: str, status: str) -> ApiError:
    if status == "ready":
        reason = (
            "its video is still in the index. Delete the video first "
            "(DELETE /indexes/{index-id}/videos/{video-id}), then the task."
        )
    else:
        reason = (
            f"its status is {status}. Only tasks with the ready or failed status can be deleted."
        )
    return ApiError(
        400,
        "task_cannot_be_deleted",
        f"The video indexing task {task_id} cannot be deleted because {reason}",
    )


def index_name_already_exists(name: str) -> ApiError:
    # The spec lists only 201 and 400 for POST /indexes.
    return ApiError(
        400,
        "index_name_already_exists",
        f"Index name {name} already exists. Please use another unique name and try again.",
    )


def server_error(status: int) -> ApiError:
    """A 5xx as a gateway or the service would send it (used by fault injection)."""
    codes = {
        500: ("internal_server_error", "An internal server error occurred. Please try again."),
        502: ("bad_gateway", "The server received an invalid response from an upstream server."),
        503: ("service_unavailable", "The service is temporarily unavailable. Please try again."),
        504: ("gateway_timeout", "The server did not answer in time. Please try again."),
    }
    code, message = codes.get(status, codes[500])
    return ApiError(status, code, message)
