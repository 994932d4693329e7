"""HTTP client for the Twelve Labs API (requests; no Qt).

``ApiClient`` is the entry point; errors are in ``errors``, the retry policy in ``retry``.
"""

from uploader_app.api.client import ApiClient
from uploader_app.api.errors import ApiError
from uploader_app.api.retry import RetryPolicy
from uploader_app.api.transport import Timeouts

__all__ = ["ApiClient", "ApiError", "RetryPolicy", "Timeouts"]
