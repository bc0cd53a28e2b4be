"""Streaming CSV import and export: decoding, column mapping, rows, and the export writer."""
