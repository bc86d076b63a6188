"""The audit of a labelled dataset: which labels are probably wrong or missing, and why.

* :mod:`.label_audit`: :func:`audit_labels` -> :class:`LabelAudit` (validation, then the pipeline);
* :mod:`.satisficing`: per-cell evidence of missing labels (co-occurrence lift, label deficit);
* :mod:`.bias`: labeler-bias monitors (satisficing, anchoring, gambler's fallacy, fatigue, rushing,
  availability);
* :mod:`.rules`: user rules (``implies``, ``excludes``) and their violations;
* :mod:`.outliers`: out-of-distribution scores;
* :mod:`.issues`, :mod:`.tables`: the issues DataFrame with its reasons, annotator and class tables.
"""

from ls_cleanlab.audit.label_audit import LabelAudit, audit_labels
from ls_cleanlab.audit.rules import Rules, RulesError, load_rules

__all__ = ["LabelAudit", "Rules", "RulesError", "audit_labels", "load_rules"]
