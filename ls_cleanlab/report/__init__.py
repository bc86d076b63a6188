"""The self-contained HTML report of an audit: overview, tabs, issues, annotators, figures.

* :mod:`.html`: :func:`render_report` / :func:`write_report`, thumbnails, escaping, links;
* :mod:`.annotators`: the annotators section (by name where known);
* :mod:`.parts`: escaping, numbers and inline charts shared by the sections;
* :mod:`.figures`: the matplotlib charts as base64 PNGs (imported only when a report is drawn);
* :mod:`.boxes`: the report of a bounding-box audit (boxes drawn on the images).
"""

from ls_cleanlab.report.html import render_report, task_link, write_report

__all__ = ["render_report", "task_link", "write_report"]
