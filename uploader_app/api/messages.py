"""The one table of plain-language sentences for every API error the app can meet.

Keys are the vendor's error codes (docs/api-notes.md §5), then codes of our own for
failures that never reach the service (``network_*``, ``tls_error``…), then HTTP statuses as a
fallback for unknown codes and bodies that are not JSON. Each entry says what happened in
words a non-technical person understands and what to do next. The vendor's own message is kept
beside it on the exception (``ApiError.message``) for the Details section and the log.
"""

from __future__ import annotations

from dataclasses import dataclass

from uploader_app.config import ENV_API_KEY, ENV_BASE_URL, ENV_PROXY


@dataclass(frozen=True)
class Message:
    title: str
    user_message: str
    hint: str


# The CLI reads the environment and the GUI has a settings dialog, so a hint that says where
# the key or the address is set names both ways.
_KEY_PLACES = f"set it as {ENV_API_KEY}, or enter it in the app's settings"
_ADDRESS = f"the server address ({ENV_BASE_URL}, or the app's settings)"
_CHECK_KEY = f"Check the API key ({_KEY_PLACES}), then try again."
_TRY_LATER = "Wait a few minutes and try again. Your files are not affected."
_SUPPORT = "If it keeps happening, send the details below to Twelve Labs support."

MESSAGES: dict[str, Message] = {
    # General request problems.
    "parameter_invalid": Message(
        "Request not accepted",
        "The service did not accept one of the values sent with this request.",
        "Check the upload settings (index, language, options). The details below name the "
        "value it refused.",
    ),
    "parameter_not_provided": Message(
        "Information missing",
        "The service needs a value that was not sent with this request.",
        "Check that an index and a video are chosen, then try again.",
    ),
    "parameter_unknown": Message(
        "Setting not supported",
        "The request contained a setting this version of the service does not know.",
        f"Check that {_ADDRESS} ends with the right API version (v1.3).",
    ),
    "resource_not_exist": Message(
        "Not found",
        "The index, video or task this refers to no longer exists on the service.",
        "Refresh the list; it may have been deleted from another computer or the website.",
    ),
    "api_key_invalid": Message(
        "API key not accepted",
        "The service did not accept the API key. Keys expire and can be revoked.",
        f"Copy a current key from the Twelve Labs dashboard, {_KEY_PLACES}, then try again.",
    ),
    "unauthorized": Message(
        "Not signed in",
        "The service could not tell who is making this request.",
        _CHECK_KEY,
    ),
    "api_allowed_for_paid_plan": Message(
        "Paid plan needed",
        "This feature is only available on a paid Twelve Labs plan.",
        "Upgrade the plan in the Twelve Labs dashboard, or use a different upload method.",
    ),
    "api_not_allowed": Message(
        "Not allowed for this account",
        "Your account is not allowed to use this feature.",
        "Ask the person who manages your Twelve Labs account to enable it.",
    ),
    "region_not_allowed": Message(
        "Not available in your region",
        "The service is not available from the country or region you are connecting from.",
        "Contact Twelve Labs support to ask which regions are supported.",
    ),
    "request_canceled_or_timed_out": Message(
        "Request timed out on the service",
        "The service took too long to handle the request and gave up.",
        _TRY_LATER,
    ),
    "too_many_requests": Message(
        "Too many requests",
        "The account has reached its request limit for now.",
        "The app waits and tries again by itself; if the wait is long, come back later.",
    ),
    "tags_not_allowed": Message(
        "Tags not allowed",
        "The service does not accept tags with this request.",
        "Remove the tags or metadata from this upload and try again.",
    ),
    "api_upgrade_required": Message(
        "Newer API version needed",
        "This feature needs a newer version of the service than the server address names.",
        f"Change the version at the end of {_ADDRESS} to the one named in the details.",
    ),
    "content_type_invalid": Message(
        "Request format not accepted",
        "The service did not accept the format in which the app sent this request.",
        "Update the app. " + _SUPPORT,
    ),
    # Indexes.
    "index_option_cannot_be_changed": Message(
        "Index options are fixed",
        "The options of an index cannot be changed after it is created.",
        "Create a new index with the options you need.",
    ),
    "index_engine_cannot_be_changed": Message(
        "Index model is fixed",
        "The model of an index cannot be changed after it is created.",
        "Create a new index with the model you need.",
    ),
    "index_name_already_exists": Message(
        "Name already used",
        "Another index already has this name. Index names must be unique.",
        "Choose a different name, or upload into the existing index.",
    ),
    "index_not_exists": Message(
        "Index not found",
        "The chosen index no longer exists on the service.",
        "Refresh the list of indexes and choose another one.",
    ),
    "index_not_supported_for_search": Message(
        "Index cannot be searched",
        "This index was created with a model that does not support search.",
        "Use an index with a Marengo model for search.",
    ),
    "index_not_supported_for_generate": Message(
        "Index cannot generate text",
        "This index was created with a model that does not support text generation.",
        "Use an index with a Pegasus model for this.",
    ),
    "search_option_not_supported": Message(
        "Search option not supported",
        "This index was not set up for the kind of search requested.",
        "Choose options the index was created with.",
    ),
    "search_page_token_expired": Message(
        "Results expired",
        "The list of results is too old to continue.",
        "Run the search again.",
    ),
    "token_limit_exceeded": Message(
        "Request too long",
        "The text sent with the request is longer than the service allows.",
        "Shorten the text and try again.",
    ),
    "batch_not_terminal": Message(
        "Still in progress",
        "This batch is still running and cannot be changed yet.",
        "Wait until it has finished, then try again.",
    ),
    "redirect_uri_invalid": Message(
        "Connection setup not accepted",
        "The service did not accept the return address for this connection.",
        _SUPPORT,
    ),
    # Tasks and videos: the file itself was refused, so sending it again will not help.
    "video_resolution_too_low": Message(
        "Video resolution too low",
        "The picture of this video is smaller than the service accepts.",
        "Use a version of the video with a higher resolution (at least 360 pixels on each side).",
    ),
    "video_resolution_too_high": Message(
        "Video resolution too high",
        "The picture of this video is larger than the service accepts.",
        "Export the video at a lower resolution (for example 1920×1080) and upload that.",
    ),
    "video_resolution_invalid_aspect_ratio": Message(
        "Picture shape not supported",
        "The video is too wide or too tall for the service.",
        "Crop or pad the video to a common shape such as 16:9, 4:3, 1:1 or 9:16.",
    ),
    "video_duration_too_short": Message(
        "Video too short",
        "This video is shorter than the service accepts.",
        "Use a clip of at least a few seconds; the details give the exact limit.",
    ),
    "video_duration_too_long": Message(
        "Video too long",
        "This video is longer than the index's model accepts.",
        "Cut the video into shorter parts and upload each one.",
    ),
    "video_file_broken": Message(
        "Video cannot be read",
        "The service could not read this video file; it may be damaged or incomplete.",
        "Play the file to check it, or export it again from the original, then upload it.",
    ),
    "video_filesize_too_large": Message(
        "Video file too large",
        "This video file is bigger than this upload method allows.",
        "Compress the video, or cut it into parts. Files over 2 GB use the large-file upload.",
    ),
    "audio_filesize_too_large": Message(
        "Audio file too large",
        "This audio file is bigger than the service allows.",
        "Compress the audio or cut it into parts, then upload again.",
    ),
    "media_filesize_too_large": Message(
        "File too large",
        "This file is bigger than the service allows for this upload method.",
        "Compress the file or cut it into parts, then upload again.",
    ),
    "audio_file_broken": Message(
        "Audio cannot be read",
        "The service could not read this audio file; it may be damaged.",
        "Export the audio again from the original, then upload it.",
    ),
    "unsupported_media_type": Message(
        "File type not supported",
        "The service does not accept files of this type.",
        "Convert the video to a common format such as MP4 (H.264 with AAC audio).",
    ),
    "unsupported_file_type": Message(
        "File type not supported",
        "The service does not accept files of this type.",
        "Convert the video to a common format such as MP4 (H.264 with AAC audio).",
    ),
    "task_cannot_be_deleted": Message(
        "Task cannot be removed yet",
        "A task can only be removed when it has finished (ready or failed).",
        "Wait until the task has finished. A ready task's video must be deleted first.",
    ),
    "usage_limit_exceeded": Message(
        "Plan limit reached",
        "Your Twelve Labs plan has used up its indexing allowance.",
        "Upgrade the plan or wait for the allowance to renew, then upload again.",
    ),
    # Failures the app detects itself, before or instead of an answer from the service.
    "network_timeout": Message(
        "No answer from the service",
        "The service did not answer in time.",
        "Check the internet connection; the app tries again by itself a few times.",
    ),
    "connection_failed": Message(
        "Cannot reach the service",
        "The app could not connect to the service.",
        f"Check the internet connection and {_ADDRESS}.",
    ),
    "dns_failed": Message(
        "Server address not found",
        "The server name in the server address could not be found on the internet.",
        f"Check the internet connection and the spelling of {_ADDRESS}.",
    ),
    "connection_reset": Message(
        "Connection dropped",
        "The connection to the service was cut before the answer arrived.",
        "Check the internet connection; the app tries again by itself a few times.",
    ),
    # The wrong certificate cases (docs/network.md): the app never goes on without checking.
    "tls_error": Message(
        "Secure connection failed",
        "The connection is not secure: the app could not set up a secure connection to the "
        "service.",
        f"Check {_ADDRESS} starts with https:// and names the service; a company network may "
        "also block it. Ask IT.",
    ),
    "tls_untrusted": Message(
        "The connection is not secure",
        "The connection is not secure: the service's certificate was issued by an authority "
        "this computer does not trust.",
        "If your company's network inspects secure connections, ask IT to add its certificate "
        "to this computer's trusted certificates. Otherwise someone may be intercepting the "
        "connection: do not send anything over this network.",
    ),
    "tls_wrong_host": Message(
        "The connection is not secure",
        "The connection is not secure: the certificate belongs to a different server name than "
        "the server address.",
        f"Check the spelling of {_ADDRESS}. If it is right, something on the network answers "
        "in the service's place: ask IT.",
    ),
    "tls_expired": Message(
        "The connection is not secure",
        "The connection is not secure: the service's certificate has expired or is not valid yet.",
        "Check this computer's date and time. If they are right, ask IT: a company proxy may "
        "be using an out-of-date certificate.",
    ),
    "proxy_auth_required": Message(
        "The proxy needs a password",
        "Your network's proxy server asks for a user name and password before it lets the "
        "app through, and none was given or the one given was not accepted.",
        f"Put them in the proxy address, as {ENV_PROXY}=http://name:password@proxy:port (or "
        "in the system's proxy settings), then try again. IT knows the proxy and its login.",
    ),
    "proxy_failed": Message(
        "Proxy not reachable",
        "The app could not get through your network's proxy server to the service.",
        f"Check the proxy address ({ENV_PROXY}, or the system's proxy settings) or ask IT; "
        "the app tries again by itself a few times.",
    ),
    "invalid_response": Message(
        "Unexpected answer",
        "The service sent an answer the app could not understand.",
        _TRY_LATER,
    ),
    "insecure_url": Message(
        "Insecure server address",
        "The server address does not use HTTPS, so the API key would travel unprotected.",
        f"Make {_ADDRESS} start with https://.",
    ),
    "address_invalid": Message(
        "Server address not valid",
        "The server address is not a valid web address.",
        f"Check the spelling of {_ADDRESS}; it looks like https://api.twelvelabs.io/v1.3.",
    ),
    "no_api_key": Message(
        "No API key",
        "No API key is set.",
        f"Copy your key from the Twelve Labs dashboard, then {_KEY_PLACES}.",
    ),
    "api_key_malformed": Message(
        "API key not accepted",
        "This is not an API key as Twelve Labs makes them: it holds quotes, spaces or other "
        "characters that were probably copied along with it.",
        f"Copy the key again from the Twelve Labs dashboard, then {_KEY_PLACES}.",
    ),
    "api_version_unsupported": Message(
        "API version not supported",
        "This app speaks API v1.2 and v1.3; the server address names another version.",
        f"End {_ADDRESS} with /v1.3 (or /v1.2), or leave the version out to use v1.3.",
    ),
    "already_claimed": Message(
        "Upload matched twice",
        "The service's answer names a task another upload was already matched to.",
        "Check the index for this file name and delete any copy you do not want.",
    ),
    "file_changed": Message(
        "File changed while sending",
        "The file changed while it was being sent.",
        "Wait until the file is completely copied or saved, then send it again.",
    ),
    # Answers of the storage service behind presigned chunk URLs (S3 error codes).
    "storage_url_refused": Message(
        "Upload link refused",
        "The storage service refused the link for one part of the file (it had expired or "
        "was already used).",
        "Try again: the app asks for a fresh link. Your account is not affected.",
    ),
    "storage_busy": Message(
        "Storage service busy",
        "The storage service asked the app to slow down or timed out while a part of the "
        "file was sent.",
        _TRY_LATER,
    ),
    "cancelled": Message(
        "Cancelled",
        "The upload was stopped before it finished.",
        "Start it again when you are ready; nothing was left half-way on your computer.",
    ),
    "upload_session_ended": Message(
        "Upload session ended",
        "The service closed the large-file upload session before it finished.",
        "Upload the file again; a new session is started for it.",
    ),
}

# Fallback when the code is missing or unknown, by HTTP status.
STATUS_MESSAGES: dict[int, Message] = {
    400: Message(
        "Request not accepted",
        "The service did not accept this request.",
        "Check the upload settings and the file. " + _SUPPORT,
    ),
    401: MESSAGES["api_key_invalid"],
    403: Message(
        "Not allowed",
        "Your account is not allowed to do this.",
        "Check the API key and your plan in the Twelve Labs dashboard.",
    ),
    404: MESSAGES["resource_not_exist"],
    408: MESSAGES["request_canceled_or_timed_out"],
    409: Message(
        "Conflict",
        "The service cannot do this while something else depends on it.",
        "Refresh the list and try again.",
    ),
    410: Message(
        "No longer available",
        "This item has expired on the service.",
        "Start the operation again.",
    ),
    413: MESSAGES["media_filesize_too_large"],
    415: MESSAGES["unsupported_media_type"],
    422: MESSAGES["parameter_invalid"],
    429: MESSAGES["too_many_requests"],
    500: Message(
        "Service error",
        "The service had an internal problem with this request.",
        _TRY_LATER + " " + _SUPPORT,
    ),
    502: Message(
        "Service unavailable",
        "The service is not reachable right now (bad gateway).",
        _TRY_LATER,
    ),
    503: Message(
        "Service unavailable",
        "The service is busy or under maintenance.",
        _TRY_LATER,
    ),
    504: MESSAGES["request_canceled_or_timed_out"],
}

CLIENT_ERROR = STATUS_MESSAGES[400]
SERVER_ERROR = STATUS_MESSAGES[500]


def message_for(code: str | None, status: int | None) -> Message:
    """The sentences for ``code``, else for the HTTP status, else a generic one."""
    if code and code in MESSAGES:
        return MESSAGES[code]
    if status is not None:
        if status in STATUS_MESSAGES:
            return STATUS_MESSAGES[status]
        if status >= 500:
            return SERVER_ERROR
    return CLIENT_ERROR


def retry_hint(seconds: float) -> str:
    """The hint when the service said how long to wait (a long rate limit, a 503)."""
    minutes = max(1, round(seconds / 60))
    wait = _count(minutes, "minute") if minutes < 60 else _count(round(seconds / 3600, 1), "hour")
    return f"The service asked to wait: try again in about {wait}. Your files are not affected."


def _count(number: float, unit: str) -> str:
    """``1 hour``, ``6 hours``, ``1.5 hours``."""
    return f"{number:g} {unit}" + ("" if number == 1 else "s")
