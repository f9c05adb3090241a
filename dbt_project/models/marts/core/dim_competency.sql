-- Competencies grouped by their folded form, shown as the most frequent written form
-- (ties: the alphabetically first).
with surveys as (

    select * from {{ ref('int_alumni_surveys__current') }}

)

select
    competency_key,
    {{ most_frequent('competency') }} as competency_name
from surveys
group by competency_key
