"""Files of attachments (docs/attachments.md), apart from who may use them:
the upload's limit and what a file is (`uploads`), images re-encoded
without their metadata and thumbnailed (`images`), where the bytes are kept
(`storage`) and how they are sent back (`serving`). The services and the
views use these; the rules of who may upload or see a file are the
services' and selectors' (through rooms/access.py)."""
