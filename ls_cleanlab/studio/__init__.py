"""Label Studio: the HTTP session, the client, project setup, label configs, tasks, exports.

* :mod:`.session`: :class:`StudioSession` (token kinds and refresh, timeouts, retries, errors);
* :mod:`.client`: :class:`StudioClient` (fetch, incremental fetch, replace predictions);
* :mod:`.push`: predictions checked as Label Studio checks them, replaced in bulk;
* :mod:`.project_setup`: views, ML backends and webhooks, all idempotent;
* :mod:`.schema`: :func:`parse_label_config` -> :class:`LabelSchema`;
* :mod:`.tasks`: :func:`read_tasks` (task JSON -> :class:`TaskTable`);
* :mod:`.box_tasks`: :func:`read_boxes` (``RectangleLabels`` task JSON -> :class:`BoxTable`);
* :mod:`.box_predictions`: box prediction JSON and its validation;
* :mod:`.predictions`: prediction JSON and its validation;
* :mod:`.export`: reading a JSON export and inferring its schema;
* :mod:`.users`: annotators by name (``"First Last <email>"``) instead of user ids.
"""

from ls_cleanlab.studio.box_predictions import Box, box_prediction_json, check_box_prediction
from ls_cleanlab.studio.box_tasks import BoxReport, BoxTable, KeptAnnotations, read_boxes
from ls_cleanlab.studio.client import FetchResult, StudioClient
from ls_cleanlab.studio.export import (
    ExportFile,
    infer_schema,
    iter_export,
    load_export,
)
from ls_cleanlab.studio.predictions import (
    check_prediction,
    prediction_json,
    prediction_versions,
    predictions_json,
)
from ls_cleanlab.studio.push import PushReport
from ls_cleanlab.studio.schema import LabelSchema, parse_label_config
from ls_cleanlab.studio.session import StudioSession
from ls_cleanlab.studio.tasks import TaskReport, TaskTable, read_tasks, task_from_webhook
from ls_cleanlab.studio.users import annotator_name, display_name

__all__ = [
    "Box",
    "BoxReport",
    "BoxTable",
    "ExportFile",
    "FetchResult",
    "KeptAnnotations",
    "LabelSchema",
    "PushReport",
    "StudioClient",
    "StudioSession",
    "TaskReport",
    "TaskTable",
    "annotator_name",
    "box_prediction_json",
    "check_box_prediction",
    "check_prediction",
    "display_name",
    "infer_schema",
    "iter_export",
    "load_export",
    "parse_label_config",
    "prediction_json",
    "prediction_versions",
    "predictions_json",
    "read_boxes",
    "read_tasks",
    "task_from_webhook",
]
