# Standards Bridge as a small, non-root image.
#   docker build -t standards-bridge .
#   docker run -p 8000:8000 -e BASE_URL=https://bridge.example.edu standards-bridge
# BASE_URL must be the URL the LMS reaches: the LTI and JWKS URLs are built from it.
# The SQLite store lives in the /var/lib/standards-bridge volume; set DATABASE_URL
# to use PostgreSQL instead.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
COPY connectors ./connectors
COPY migrations ./migrations
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DATABASE_URL=sqlite:////var/lib/standards-bridge/standards-bridge.db \
    PORT=8000
COPY --from=build /wheels /wheels
RUN pip install /wheels/*.whl && rm -rf /wheels \
    && useradd --system --uid 10001 --create-home \
       --home-dir /var/lib/standards-bridge standards-bridge
USER standards-bridge
WORKDIR /var/lib/standards-bridge
VOLUME ["/var/lib/standards-bridge"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('PORT', '8000') + '/healthz', timeout=4)"
CMD ["sh", "-c", "standards-bridge migrate && exec standards-bridge serve --host 0.0.0.0"]
