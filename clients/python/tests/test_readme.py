"""The example in clients/python/README.md runs against the live server as written."""

import re
from pathlib import Path

from conftest import REPO_ROOT

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example(address: str, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert len(blocks) == 1, "the README has one python example"
    example = blocks[0]
    assert '"localhost:8500"' in example
    monkeypatch.chdir(REPO_ROOT)  # the example names the sample images from the repository root
    exec(compile(example.replace('"localhost:8500"', repr(address)), str(README), "exec"), {})
    output = capsys.readouterr().out
    assert "64 dimensions" in output and "red star (" in output
