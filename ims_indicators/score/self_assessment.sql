-- Self-assessment answers the label scores: one row per school x year x item (the latest accepted submission).
select
    school_id,
    academic_year,
    item_id,
    answer
from curated.self_assessment
where academic_year = coalesce($year, academic_year)
order by academic_year, school_id, item_id
