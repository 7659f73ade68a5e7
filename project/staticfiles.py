"""collectstatic's storage in production: ServeStatic's compressed manifest
storage, which also rewrites the JavaScript modules' imports.

The modules import each other by relative name (`import ... from
"./client.js"`). Collected, every file gets a content hash in its name, and
an import of the plain name would load a copy that the far-future cache
headers keep stale after a deploy. Rewriting the imports to the hashed names
keeps every page on one consistent version, with no inline import map (the
Content-Security-Policy allows no inline script: project/csp.py).
"""

from servestatic.storage import CompressedManifestStaticFilesStorage


class ManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    support_js_module_import_aggregation = True
