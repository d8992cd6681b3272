"""Common Crawl ingest: WARC records -> math-preserving text documents with URL and quality metadata."""
