# Lumbung's Airflow image: the official Airflow 3 image plus Lumbung's locked dependencies.
# The Airflow version here must equal the one in uv.lock (a test checks it), so that installing
# the lock never changes Airflow itself. Built by `docker compose build` (see docker-compose.yml).
FROM apache/airflow:3.3.2-python3.11

ENV LUMBUNG_ROOT=/opt/lumbung \
    GX_ANALYTICS_ENABLED=false \
    DO_NOT_TRACK=1 \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false
WORKDIR /opt/lumbung

# 1. the locked third-party dependencies (this layer is rebuilt only when uv.lock changes);
#    Airflow is pinned on the same line, as the official image's documentation asks
COPY --chown=airflow:root pyproject.toml uv.lock README.md ./
RUN pip install --no-cache-dir uv==0.13.9 \
 && uv export --frozen --no-dev --no-hashes --no-emit-project --format requirements-txt \
      > /tmp/requirements.txt \
 && pip install --no-cache-dir "apache-airflow==${AIRFLOW_VERSION}" -r /tmp/requirements.txt

# 2. Lumbung itself, installed in place so that it finds its dbt project, DAGs and GX context
COPY --chown=airflow:root ingestion ./ingestion
COPY --chown=airflow:root dbt_project ./dbt_project
COPY --chown=airflow:root dags ./dags
COPY --chown=airflow:root expectations ./expectations
COPY --chown=airflow:root docker ./docker
RUN pip install --no-cache-dir --no-deps -e /opt/lumbung

# 3. the dbt manifest build_marts renders from, written now so no container runs dbt to parse
ENV LUMBUNG_DBT_MANIFEST=/opt/lumbung/dbt_manifest/manifest.json
RUN LUMBUNG_HOME=/tmp/lumbung-build lumbung airflow manifest && rm -rf /tmp/lumbung-build
