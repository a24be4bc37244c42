"""persona-site: buyer personas that update themselves from tagged call transcripts."""

__version__ = "0.1.0"
