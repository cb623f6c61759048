"""nbgrader course configuration for dcai-al.

The instructor's notebooks live in ``solutions/``; ``nbgrader generate_assignment``
(or ``dcai-al release``) writes the student versions straight into ``labs/``.
``dcai-al autograde`` runs grading in a temporary copy of the course, so no
gradebook or submissions are ever written into the repository.
"""

c = get_config()  # noqa: F821 - injected by traitlets when nbgrader loads this file

c.CourseDirectory.course_id = "dcai-al"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "labs"

# Autograde runs each notebook with the kernel named in its metadata; keep it
# the plain `python3` kernel that every JupyterLab install provides.
c.ExecutePreprocessor.kernel_name = "python3"
# Per-cell limit: an answer that loops forever costs that answer, not the run.
c.ExecutePreprocessor.timeout = 60

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
