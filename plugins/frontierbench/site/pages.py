"""Where each page of the site goes, and how its data is embedded in it.

File names are safe slugs plus a short hash of what they stand for, so no name from a record can
climb out of the site and two names never share a page. Data travels as JSON inside
<script type="application/json">, escaped so that it cannot end the script block.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from markupsafe import Markup

from frontierbench.formats.leaderboard import Group
from frontierbench.formats.names import slugify


def short_hash(*parts: str, length: int = 10) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:length]


def safe_slug(text: str, max_len: int = 40) -> str:
    """A file-name fragment made only of [a-z0-9-]; never empty, never '.' or '..'."""
    return slugify(text, max_len) or "x"


def group_key(group: Group) -> str:
    return f"{group.hardware_class}\x1f{group.board_version}"


def group_page(group: Group, default: bool) -> str:
    """The board page of one group, relative to boards/<board>/."""
    if default:
        return "index.html"
    slug = safe_slug(f"{group.hardware_class}-v{group.board_version}")
    return f"{slug}-{short_hash(group_key(group), length=8)}.html"


def entry_page(group: Group, entry_name: str) -> str:
    """An entry page, relative to boards/<board>/: a safe slug plus a hash of group and name."""
    return f"entries/{safe_slug(entry_name)}-{short_hash(group_key(group), entry_name)}.html"


JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}
JSON_ESCAPE_RE = re.compile("[<>&\u2028\u2029]")


def json_for_script(data: Any) -> Markup:
    """JSON safe inside <script type="application/json">: no '</script>', no '<!--', no '&'."""
    text = json.dumps(data, sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return Markup(JSON_ESCAPE_RE.sub(lambda m: JSON_ESCAPES[m.group(0)], text))
