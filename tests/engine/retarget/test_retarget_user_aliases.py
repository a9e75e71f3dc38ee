"""A user's alias table {channel: [shape key names]} extends retargeting by name, without touching ALIASES."""

from __future__ import annotations

import json

import pytest

from engine.errors import InputError
from engine.retarget import ALIASES, map_by_name, read_alias_table, with_user_aliases


def test_user_aliases_drive_custom_names_and_leave_the_builtin_table_alone():
    before = dict(ALIASES)
    aliases = with_user_aliases({"JawOpen": ["Kiefer_Auf"], "eyeBlink_L": "Zu_Links", "browInnerUp": ["Blink"]})
    mapping = map_by_name(["jawOpen", "eyeBlinkLeft", "eyeBlinkRight", "browInnerUp"],
                          ["Kiefer_Auf", "Zu_Links", "Blink"], aliases=aliases)
    assert mapping.targets == {"jawOpen": [("Kiefer_Auf", 1.0)], "eyeBlinkLeft": [("Zu_Links", 1.0)],
                               "browInnerUp": [("Blink", 1.0)]}  # the user's 'Blink' replaces VRM's
    assert ALIASES == before
    assert map_by_name(["jawOpen"], ["Kiefer_Auf"]).unmapped == ["jawOpen"]


@pytest.mark.parametrize("table,sentence", [
    ([], "must be a JSON object"),
    ({"jawOpenWide": ["X"]}, "names 'jawOpenWide', which is not one of our channels or an ARKit shape"),
    ({"jawOpen": [1]}, "entry for 'jawOpen' must be a list of shape key names"),
    ({"jawOpen": ["X"], "mouthClose": ["x"]}, "lists 'x' under both 'jawOpen' and 'mouthClose'"),
])
def test_malformed_tables_are_sentences(table, sentence):
    with pytest.raises(InputError, match=sentence):
        with_user_aliases(table)


def test_alias_files_are_read_or_refused_with_the_file_named(tmp_path):
    path = tmp_path / "aliases.json"
    path.write_text(json.dumps({"mouthClose": ["Lippen_Zu"]}))
    assert read_alias_table(path)["Lippen_Zu"] == (("mouthClose", 1.0),)
    with pytest.raises(InputError, match=r"'.*missing\.json' cannot be read .*; choose an existing JSON file"):
        read_alias_table(tmp_path / "missing.json")
    path.write_text("{")
    with pytest.raises(InputError, match=r"'.*aliases\.json' is not valid JSON"):
        read_alias_table(path)
