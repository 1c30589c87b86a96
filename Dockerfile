# The sinkload application image: the CLI, the migrations and the dbt project (no database inside).
# Build: docker build -t sinkload .     Run: docker run --rm -e SINKLOAD_DATABASE_URL=... sinkload reload /inbox
FROM python:3.11-slim-bookworm

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SINKLOAD_HOME=/app \
    DBT_SEND_ANONYMOUS_USAGE_STATS=false

WORKDIR /app
# Dependencies first (cached while only the code changes); the wheels bundle GDAL, HDF5 and libpq.
COPY pyproject.toml constraints.txt README.md ./
COPY src ./src
RUN pip install -c constraints.txt -e .
COPY migrations ./migrations
COPY alembic.ini ./
COPY dbt_project ./dbt_project
COPY warehouse ./warehouse
COPY deploy/superset/bundle ./deploy/superset/bundle

# dbt writes target/ and logs/ inside its project: the only paths the runtime user may write.
RUN useradd --create-home --uid 10001 sinkload \
 && mkdir -p dbt_project/target dbt_project/logs \
 && chown -R sinkload:sinkload dbt_project/target dbt_project/logs
USER sinkload

ENTRYPOINT ["sinkload"]
CMD ["--help"]
