"""The protocol version matrix, for tests where mosquitto deviates in only
one of the versions: @versions(v311="why") runs the test for 3.1.1 and 5 like
the `version` fixture does, but marks the 3.1.1 case stellwerk_only."""

import pytest

from rawmqtt import V311, V5


def versions(v311=None, v5=None):
    def param(version, name, reason):
        marks = [pytest.mark.stellwerk_only(reason=reason)] if reason else []
        return pytest.param(version, id=name, marks=marks)

    return pytest.mark.parametrize("version", [param(V311, "v311", v311), param(V5, "v5", v5)])
