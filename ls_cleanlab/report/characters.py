"""Unicode facts shared by the report's charts and the command's tables, which Python's
:mod:`unicodedata` does not give: which characters attach to the one before them, and which
format characters print."""

from __future__ import annotations

__all__ = ["DRAWN_FORMAT", "PREPENDED", "SKIN_TONES", "ZWJ"]

#: ZERO WIDTH JOINER: the character after it joins the emoji before it (ZWJ sequences)
ZWJ = "\u200d"
#: The emoji modifiers (Fitzpatrick skin tones), category Sk like ``^`` and ``` ` ```
SKIN_TONES = range(0x1F3FB, 0x1F400)
#: Format characters that print (Unicode's Prepended_Concatenation_Mark): Arabic number signs,
#: Syriac abbreviation, Kaithi number signs
PREPENDED = frozenset({*range(0x0600, 0x0606), 0x06DD, 0x070F, 0x0890, 0x0891, 0x08E2,
                       0x110BD, 0x110CD})  # fmt: skip
#: Format characters a chart draws as glyphs besides :data:`PREPENDED` (text shaping hides the
#: others): the Egyptian hieroglyph and the shorthand format controls
DRAWN_FORMAT = (range(0x13430, 0x13440), range(0x1BCA0, 0x1BCA4))
