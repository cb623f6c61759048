"""nbgrader settings for students, read by `make lab` (JUPYTER_CONFIG_PATH points here).

The Validate button runs the notebook's answer and test cells only: the experiment cells carry no
points and take minutes at full size. Its messages keep their full width.
"""

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file

c.ExecutePreprocessor.skip_cells_with_tag = "experiment"
c.Validator.width = 200
