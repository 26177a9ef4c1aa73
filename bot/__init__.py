"""wirewatch: a self-hosted news-alert bot."""

__version__ = "0.1.0"
