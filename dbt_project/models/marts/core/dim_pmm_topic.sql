-- One row per topic code, named as it is most often written.
with topics as (

    select * from {{ ref('int_pmm_topic_snapshots') }}

),

codes as (

    select distinct topic_code from topics

),

named as ({{ most_frequent_counted('topics', 'topic_code', 'topic', 'mentions') }})

select codes.topic_code, named.topic as topic_name
from codes
left join named on named.topic_code = codes.topic_code
