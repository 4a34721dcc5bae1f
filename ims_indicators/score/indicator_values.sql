-- Indicator values the label is scored from: one row per school × year × indicator.
-- A value that is not computable (too small a base, missing input) counts as missing; numerator and
-- denominator are the sampling base of the Monte Carlo's data error.
with source as (
    select school_id, academic_year, indicator_id, value, numerator, denominator, computable
    from marts.indicator_values
),

final as (
    select
        school_id,
        academic_year,
        indicator_id,
        case when coalesce(computable, true) then value end as value,
        numerator,
        denominator
    from source
    where academic_year = coalesce($year, academic_year)
)

select * from final
order by academic_year, school_id, indicator_id
