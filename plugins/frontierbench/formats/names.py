"""Names that become parts of paths and keys: board and entry slugs, hardware classes, page names.

Plain Python (the pytest plugin names hardware classes with it).
"""

from __future__ import annotations

import re

SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
NOT_SLUG_CHARS = re.compile(r"[^a-z0-9]+")


def check_slug(name: str, what: str = "board name") -> str:
    """Board and entry slugs become path components: refuse anything that could escape."""
    if not isinstance(name, str) or not SLUG.match(name):
        raise ValueError(f"{what} {name!r} is not a safe slug (lowercase letters, digits, '-', '_')")
    return name


def slugify(text: str, max_len: int | None = None) -> str:
    """Lowercase letters and digits, every other run of characters one '-': "Intel(R) Xeon(R)" ->
    "intel-r-xeon-r". May be empty."""
    slug = NOT_SLUG_CHARS.sub("-", str(text).lower()).strip("-")
    if max_len is not None:
        slug = slug[:max_len].strip("-")
    return slug
