"""The machinery behind :mod:`ls_cleanlab.annotators`: vote sums, CROWDLAB (single- and
multi-label), Dawid-Skene, agreement statistics, the annotator table and the cleanlab-format
multi-annotator entry point. Private; use :mod:`ls_cleanlab.annotators`."""
