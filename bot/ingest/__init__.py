"""Feed ingestion: fetch, parse, normalize, schedule."""
