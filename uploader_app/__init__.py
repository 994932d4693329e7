"""Video Indexing Uploader: send videos to the Twelve Labs video-indexing API."""

__version__ = "0.1.0"
