"""Student experience survey: templates for schools, demo submissions, the survey mart and CHE's rule.

Students judge items of their study (``contracts.SURVEY_ITEMS``) on the scale 1 = very good … 6 = very poor
(``contracts.SURVEY_SCALE``; lower is better). A school sends either one row per respondent and item
(respondent_ref, score, comment) or one row per item (responses, mean, sd); both give the same
``marts.survey_items`` and the same groups. Modules (nothing heavy is imported here):

- ``che``: ``compute_survey(con)`` writes ``marts.survey_items`` with CHE's confidence-interval groups;
  ``apply_survey_groups(con)`` applies the same rule to the survey indicators in ``marts.benchmark_groups``;
- ``template``/``cli``: ``ims survey-template``, blank XLSX/CSV templates per school;
- ``demo``: ``write_demo_survey``, the demo network's survey submissions;
- ``suite``: the survey's Great Expectations suite (``expectations/student_survey.json``);
- ``figures``/``report``: the survey chart and what the reports show (small counts suppressed; free-text
  comments only on each school's own page, names and e-mail addresses masked).
"""

from __future__ import annotations

SCALE_LABELS = {1: "very good", 2: "good", 3: "satisfactory", 4: "adequate", 5: "poor", 6: "very poor"}
