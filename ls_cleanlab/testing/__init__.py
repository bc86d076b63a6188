"""What tests, benchmarks and the demo share; not part of the product.

* :mod:`.label_studio`: :func:`running_label_studio` starts a real Label Studio
  (``make studio``) and yields a :class:`Studio` with its URL and both kinds of key;
* :mod:`.admin`: :class:`Admin`, raw API calls for setting projects up, and label configs;
* :mod:`.synthetic_images`: :func:`make_images`, multi-label images with known truth;
* :mod:`.simulate`: simulated projects and annotator habits (satisficing, carelessness).
* :mod:`.gold_crowd`: a crowd whose majority is systematically wrong, and gold on a few tasks.

Nothing in :mod:`ls_cleanlab` imports this package (an import-linter contract keeps it so), and
importing it loads none of ``requests``, Pillow or a Label Studio: each is imported when used.
Names are resolved lazily (PEP 562), as in :mod:`ls_cleanlab`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> the module that defines it.
_EXPORTS: dict[str, str] = {
    **dict.fromkeys(("IMAGE_MULTI", "SINGLE", "TEXT_MULTI", "Admin"), "ls_cleanlab.testing.admin"),
    **dict.fromkeys(
        ("Studio", "executable", "running_label_studio"), "ls_cleanlab.testing.label_studio"
    ),
    **dict.fromkeys(
        ("Project", "careless", "make_project", "satisfice"), "ls_cleanlab.testing.simulate"
    ),
    **dict.fromkeys(("encode", "make_images"), "ls_cleanlab.testing.synthetic_images"),
}

__all__ = [
    "IMAGE_MULTI",
    "SINGLE",
    "TEXT_MULTI",
    "Admin",
    "Project",
    "Studio",
    "careless",
    "encode",
    "executable",
    "make_images",
    "make_project",
    "running_label_studio",
    "satisfice",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'ls_cleanlab.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


if TYPE_CHECKING:  # for type checkers and IDEs; never executed
    from ls_cleanlab.testing.admin import IMAGE_MULTI, SINGLE, TEXT_MULTI, Admin
    from ls_cleanlab.testing.label_studio import Studio, executable, running_label_studio
    from ls_cleanlab.testing.simulate import Project, careless, make_project, satisfice
    from ls_cleanlab.testing.synthetic_images import encode, make_images
