with progress as (

    select * from {{ ref('int_pmm_progress__current') }}

)

select
    topic_code,
    {{ most_frequent('topic') }} as topic_name
from progress
group by topic_code
