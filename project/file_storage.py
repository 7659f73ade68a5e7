"""The `attachments` storage of Django's STORAGES (docs/attachments.md),
from the settings project/settings.py read: an S3-compatible bucket
through django-storages when one is named, else the filesystem."""


def attachments_storage(
    *, bucket: str | None, endpoint_url: str | None, media_root: str, url_expiry: int
) -> dict:
    if bucket:
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": endpoint_url,
                # Another host than the bucket's own (MinIO, Ceph): path-style
                # addresses, as such servers expect.
                "addressing_style": "path" if endpoint_url else None,
                "signature_version": "s3v4",  # presigned addresses that say when they expire
                "default_acl": None,  # private: read only through presigned addresses
                "querystring_auth": True,
                "querystring_expire": url_expiry,
                "file_overwrite": True,  # every key is new: no existence check per save
            },
        }
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": media_root,
            "base_url": None,  # never served as static files: rooms/web/attachments.py
            "file_permissions_mode": 0o640,
            "directory_permissions_mode": 0o750,
        },
    }
