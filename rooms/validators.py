"""The domain's own checks of what people type: slugs, bodies, client ids,
seqs, emoji. Every way in (the protocol parser, the API, forms, commands)
uses these, so one input is judged the same way wherever it arrives."""

import re

_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,64}")


def is_slug(room: str) -> bool:
    return bool(_SLUG.fullmatch(room))
