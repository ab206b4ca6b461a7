# Two images, two targets:
#   airflow   what Airflow runs: the official Airflow image, the runtime pins (requirements.txt),
#             Java 17 for local PySpark (each job's own tests in the release's test stage), and
#             the pipeline's folders (dags, plugins, glue_jobs, lambda_functions, state_machines,
#             expectations, infrastructure) and
#             local_runtime (the awsglue API on local Spark, for the jobs' tests in the test stage).
#   emulator  the local AWS emulator for a team's stack: the airflow image plus the development
#             pins (requirements-dev.txt: moto) and the emulator (local_aws/, dev/). Never deployed.
#             Its job runs import local_runtime/, which it has from the airflow stage beside local_aws/.
#
# Inside the images /opt/airflow is the project root, laid out like the checkout, so
# glue_cicd.paths finds everything where it does outside. docker-compose.yaml also mounts those
# folders from the checkout, so edits show up without a rebuild; rebuild after changing the pins.
#
# Keep the tag's Airflow version equal to requirements.txt's apache-airflow pin (the build stops
# if they differ) and its Python at 3.11 (Glue 5.0's).
FROM apache/airflow:3.3.2-python3.11 AS airflow

USER root
# Java 17 for PySpark 3.5 (Glue 5.0's Spark); procps gives Spark's launch scripts `ps`.
# JAVA_HOME goes through a link that does not name the architecture (amd64 and arm64 hosts alike).
RUN mkdir -p /usr/share/man/man1 \
    && apt-get update \
    && apt-get install -y --no-install-recommends openjdk-17-jre-headless procps \
    && ln -s "/usr/lib/jvm/java-17-openjdk-$(dpkg --print-architecture)" /usr/lib/jvm/java-17 \
    && /usr/lib/jvm/java-17/bin/java -version \
    && apt-get autoremove -yqq --purge \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/*
ENV JAVA_HOME=/usr/lib/jvm/java-17

# pip runs as the airflow user: it installs into the image's virtualenv (~/.local), as Airflow's
# image documentation asks. requirements.txt pins apache-airflow to the base image's version, so
# Airflow itself does not move; the image's Celery, Postgres and Redis providers (which
# requirements.txt does not list) stay installed, and the last line checks they still import.
USER airflow
COPY --chown=airflow:0 requirements.txt /requirements.txt
RUN grep -qxF "apache-airflow==${AIRFLOW_VERSION}" /requirements.txt \
        || { echo "requirements.txt must pin apache-airflow==${AIRFLOW_VERSION} (the base image's version)" >&2; exit 1; } \
    && pip install --no-cache-dir -r /requirements.txt \
    && python -c "import airflow.providers.celery, airflow.providers.postgres, psycopg2, redis, pyspark"

# The project, last: a code change does not reinstall the dependencies.
COPY --chown=airflow:0 dags/ /opt/airflow/dags/
COPY --chown=airflow:0 plugins/ /opt/airflow/plugins/
COPY --chown=airflow:0 glue_jobs/ /opt/airflow/glue_jobs/
COPY --chown=airflow:0 lambda_functions/ /opt/airflow/lambda_functions/
COPY --chown=airflow:0 state_machines/ /opt/airflow/state_machines/
COPY --chown=airflow:0 local_runtime/ /opt/airflow/local_runtime/
COPY --chown=airflow:0 expectations/ /opt/airflow/expectations/
COPY --chown=airflow:0 infrastructure/ /opt/airflow/infrastructure/
# Airflow puts plugins/ on sys.path itself: no PYTHONPATH.
ENV GX_ANALYTICS_ENABLED=false

FROM airflow AS emulator
COPY --chown=airflow:0 requirements-dev.txt /requirements-dev.txt
RUN pip install --no-cache-dir -r /requirements-dev.txt
COPY --chown=airflow:0 local_aws/ /opt/airflow/local_aws/
COPY --chown=airflow:0 dev/ /opt/airflow/dev/
