"""A submission's history names its states as people do, not by the stored codes."""
from __future__ import annotations

from django.utils import translation

from submissions.models import SubmissionEvent


def test_history_states_are_labels_in_chinese():
    event = SubmissionEvent(action="compile", from_status="open", to_status="compiled")
    with translation.override("zh-hans"):
        assert (event.from_status_label, event.to_status_label) == ("待报送", "已汇编")
    with translation.override("en"):
        assert (event.from_status_label, event.to_status_label) == ("Open", "Compiled")


def test_an_unknown_state_is_shown_as_stored():
    assert SubmissionEvent(from_status="", to_status="weird").to_status_label == "weird"
