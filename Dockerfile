# Một Cửa API: slim Python, non-root, a font with Vietnamese glyphs, migrations then uvicorn with several workers.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    MOTCUA_DATABASE_URL=sqlite:////data/motcua.db \
    WEB_CONCURRENCY=4

RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 10001 motcua \
    && mkdir -p /data && chown motcua /data

WORKDIR /app
COPY pyproject.toml README.md alembic.ini ./
COPY service ./service
COPY migrations ./migrations
RUN pip install --no-cache-dir .

USER motcua
EXPOSE 8000
# Migrations run once per container start, before the workers (they are idempotent: `upgrade head`).
CMD ["sh", "-c", "alembic upgrade head && exec motcua serve --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY}"]
