"""Turn an autograded notebook into the one a student may be given back.

nbgrader's feedback is the autograded notebook as HTML, so it shows every
test cell in full, hidden tests included (nbgrader #917, #1363), and a
traceback that quotes the hidden lines around a failing assert. Here the
hidden part of each test cell is replaced by one comment, each error is cut
to its message, and the lecture's ``$...$`` math is written as MathML, which
a browser draws without MathJax, offline.

>>> text = "check(f)\\n### BEGIN HIDDEN TESTS\\nassert secret\\n### END HIDDEN TESTS\\n"
>>> cell = {"cell_type": "code", "source": text, "metadata": {}, "outputs": []}
>>> print(for_student({"cells": [cell], "metadata": {}})["cells"][0]["source"])
check(f)
# (hidden tests ran here when the lab was graded)
<BLANKLINE>
"""

from __future__ import annotations

import copy
import re

__all__ = ["EXPERIMENT_TAG", "HIDDEN_NOTE", "for_student", "latex_to_mathml"]

BEGIN, END = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
HIDDEN_NOTE = "# (hidden tests ran here when the lab was graded)"
#: Instructor cells with this tag (the labs' experiments and figures) carry no points and are not run when grading.
EXPERIMENT_TAG = "experiment"
SKIPPED_NOTE = "(not run when grading: this experiment carries no points; run the notebook to see it)\n"
# $$display$$ first, then $inline$; a backslash-escaped \$ is not math.
_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?!\s)([^$\n]+?)(?<![\s\\])\$(?!\$)", re.S)


def _source(cell) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _strip_hidden(text: str) -> str:
    out, hidden = [], False
    for line in text.splitlines(keepends=True):
        if line.strip() == BEGIN:
            hidden = True
            out.append(HIDDEN_NOTE + "\n")
        elif line.strip() == END:
            hidden = False
        elif not hidden:
            out.append(line)
    return "".join(out)


def latex_to_mathml(text: str) -> str:
    """Replace ``$...$`` and ``$$...$$`` in markdown by MathML; leave what does not parse.

    >>> latex_to_mathml("error $2^{-n}$ after n labels").startswith("error <math")
    True
    """
    from latex2mathml.converter import convert

    def one(match: re.Match) -> str:
        display = match.group(1) is not None
        latex = match.group(1) if display else match.group(2)
        try:
            return convert(latex, display="block" if display else "inline")
        except Exception:  # unsupported macro: keep the TeX, which is readable as it is
            return match.group(0)

    return _MATH.sub(one, text)


def for_student(notebook: dict) -> dict:
    """A copy of an autograded notebook with no hidden tests, short errors and MathML.

    Parameters
    ----------
    notebook : dict
        An executed nbformat-4 notebook (a plain dict or a NotebookNode).

    Returns
    -------
    dict
        The same kind of object, changed: each ``### BEGIN HIDDEN TESTS`` ...
        ``### END HIDDEN TESTS`` block becomes one comment line, every error
        output keeps only ``ename: evalue``, markdown math becomes MathML, and
        an experiment cell that was not run says so.
    """
    nb = copy.deepcopy(notebook)
    for cell in nb["cells"]:
        text = _source(cell)
        if cell["cell_type"] == "markdown":
            cell["source"] = latex_to_mathml(text)
            continue
        if BEGIN in text:
            cell["source"] = _strip_hidden(text)
        if EXPERIMENT_TAG in cell.get("metadata", {}).get("tags", []) and not cell.get("outputs"):
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": SKIPPED_NOTE}]
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                output["traceback"] = [f"{output.get('ename', 'Error')}: {output.get('evalue', '')}"]
    return nb
