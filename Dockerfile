# wirewatch: `docker run -v ./config:/config -v wirewatch-data:/data wirewatch`
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    WIREWATCH_CONFIG=/config/config.toml

# Extras to install: "postgres" (psycopg 3, procrastinate) by default, so database_url may name a
# PostgreSQL server and `run --role poller|core` works (compose.yaml).
ARG EXTRAS=postgres

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY rules ./rules
RUN pip install --no-cache-dir "./[${EXTRAS}]" \
    && useradd --create-home --uid 10001 wirewatch \
    && mkdir -p /data /config \
    && chown wirewatch:wirewatch /data

USER 10001
# The database and learned models: set `data_dir = "/data"` in config.toml.
VOLUME ["/data"]
ENTRYPOINT ["wirewatch"]
CMD ["run"]
