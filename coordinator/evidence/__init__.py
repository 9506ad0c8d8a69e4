"""Evidence: photos and documents attached to anything (a case, a report, an alert, a renovation filing…).

- `models.Evidence`: one stored file, attached by `subject_type` + `subject_id` with a `purpose`
  ("before", "after", "report", "frame", "drawing", "document", …).
- `files`: what a file is — images are decoded with Pillow (the type sniffed from the content, never the
  name), re-encoded without metadata (EXIF GPS is gone from what anyone downloads), thumbnailed; PDFs
  by their magic bytes. No Flask, no database.
- `storage`: content-addressed blobs (sha256) on the local filesystem or an S3-compatible bucket.
- `services`: `save_image`, `save_document`, `list_evidence`, … (plain functions taking a Session).
- `views`: `GET /api/v1/evidence/<id>` (+ `/thumbnail`), and a case's evidence upload and list.
"""
